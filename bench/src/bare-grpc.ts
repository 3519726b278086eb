// Bare @grpc/grpc-js pieces the benches use as baselines: no Nest, no guard, no interceptors, the
// same proto-loader codecs as cinode's stack, so only the stack's own work differs.
import {
  Metadata,
  Server,
  ServerCredentials,
  type Client,
  type ServerUnaryCall,
  type ServiceDefinition,
  type ServiceError,
  type sendUnaryData,
} from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import { cinodePackageDefinition } from '@cinode/proto';
import type {
  ProbeRequest,
  ProbeResponse,
} from '@cinode/proto/gen/cinode/testing/v1/probe_service';

export const PROBE_SERVICE = 'cinode.testing.v1.ProbeService';

/** A method of the shared package definition: the codecs both the stack and the bare sides use. */
export function methodOf<Req, Res>(service: string, name: string): MethodDefinition<Req, Res> {
  const definition = cinodePackageDefinition()[service];
  if (!definition || 'format' in definition)
    throw new Error(`${service} is not a service in the package definition`);
  const method = definition[name];
  if (!method) throw new Error(`${service} has no ${name} method`);
  return method as unknown as MethodDefinition<Req, Res>;
}

/** Binds a bare server to a free loopback port. */
export function listen(server: Server): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(port),
    );
  });
}

/** Lets calls finish for up to graceMs, then cuts the rest. */
export function shutdown(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A bare server answering Probe with the message and the given caller subject. */
export async function startEchoServer(
  callerSubject: string,
): Promise<{ server: Server; port: number }> {
  const server = new Server();
  const definition: ServiceDefinition = {
    Probe: methodOf<ProbeRequest, ProbeResponse>(PROBE_SERVICE, 'Probe'),
  };
  server.addService(definition, {
    Probe: (
      call: ServerUnaryCall<ProbeRequest, ProbeResponse>,
      callback: sendUnaryData<ProbeResponse>,
    ) => callback(null, { message: call.request.message, callerSubject }),
  });
  return { server, port: await listen(server) };
}

/** Calls Probe over a bare client with the bearer header and deadline createGrpcClient sends. */
export function bareProbe(
  client: Client,
  token: string,
  request: ProbeRequest,
  timeoutMs: number,
): () => Promise<ProbeResponse> {
  const method = methodOf<ProbeRequest, ProbeResponse>(PROBE_SERVICE, 'Probe');
  return () => {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    return new Promise<ProbeResponse>((resolve, reject) => {
      client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        metadata,
        { deadline: new Date(Date.now() + timeoutMs) },
        (error: ServiceError | null, response?: ProbeResponse) => {
          if (error) reject(error);
          else if (response?.message === request.message) resolve(response);
          else reject(new Error(`Probe answered ${JSON.stringify(response)}`));
        },
      );
    });
  };
}
