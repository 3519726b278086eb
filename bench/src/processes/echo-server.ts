// A bare @grpc/grpc-js server in a process of its own, the baseline the read-path bench drives with
// h2load: for each path in ECHO_ROUTES (JSON: path -> hex of a serialized reply) it answers every
// call with those exact bytes, without decoding the request or encoding anything, so it costs only
// what grpc-js itself costs per call. Prints `listening <port>` once bound; stops on SIGTERM.
import {
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
} from '@grpc/grpc-js';

const routes = JSON.parse(process.env.ECHO_ROUTES ?? '{}') as Record<string, string>;
const server = new Server();
const definition: Record<string, ServiceDefinition[string]> = {};
const handlers: Record<
  string,
  (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => void
> = {};
for (const [path, hex] of Object.entries(routes)) {
  const reply = Buffer.from(hex, 'hex');
  definition[path] = {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: (value: Buffer) => value,
    requestDeserialize: (bytes: Buffer) => bytes,
    responseSerialize: (value: Buffer) => value,
    responseDeserialize: (bytes: Buffer) => bytes,
  };
  handlers[path] = (_call, callback) => callback(null, reply);
}
server.addService(definition as ServiceDefinition, handlers);
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    console.error(error.message);
    process.exit(1);
  }
  console.log(`listening ${port}`);
});
process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
