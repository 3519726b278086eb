import { Client, credentials, Metadata } from '@grpc/grpc-js';
import {
  ServerReflectionRequest,
  ServerReflectionResponse,
} from '@cinode/proto/gen/grpc/reflection/v1/reflection';

/** The services a server lists through gRPC reflection (grpc.reflection.v1, list_services). */
export async function reflectedServices(address: string, timeoutMs = 5_000): Promise<string[]> {
  const client = new Client(address, credentials.createInsecure());
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const call = client.makeBidiStreamRequest(
        '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
        (request: ServerReflectionRequest) =>
          Buffer.from(ServerReflectionRequest.encode(request).finish()),
        (bytes: Buffer) => ServerReflectionResponse.decode(bytes),
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
      );
      call.on('data', (response: ServerReflectionResponse) => {
        resolve(response.listServicesResponse?.service.map((s) => s.name) ?? []);
        call.end();
      });
      call.on('error', reject);
      call.write({ host: '', listServices: '' });
    });
  } finally {
    client.close();
  }
}
