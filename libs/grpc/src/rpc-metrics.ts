import {
  ServerInterceptingCall,
  status as GrpcStatus,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import { rpcServerDuration, rpcServerHandled } from '@cinode/telemetry';

/**
 * Counts and times every call by method and final status code. It sits in grpc-js itself, below
 * Nest, so it sees what the caller sees: calls refused by the auth guard, errors mapped by the
 * exception filter, deadline cuts, health and reflection.
 */
export const rpcMetricsInterceptor: ServerInterceptor = (method, call) => {
  const started = process.hrtime.bigint();
  const [, service = 'unknown', name = 'unknown'] = method.path.split('/');
  return new ServerInterceptingCall(call, {
    sendStatus(status, next) {
      const labels = {
        grpc_service: service,
        grpc_method: name,
        grpc_code: GrpcStatus[status.code] ?? String(status.code),
      };
      rpcServerHandled.inc(labels);
      rpcServerDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      next(status);
    },
  });
};
