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
  const path = method.path;
  return new ServerInterceptingCall(call, {
    sendStatus(status, next) {
      const series = seriesOf(path, status.code);
      series.handled.inc();
      series.duration.observe(Number(process.hrtime.bigint() - started) / 1e9);
      next(status);
    },
  });
};

/**
 * The two series of a method and status code, looked up once: labelling per call costs more than
 * counting. grpc-js runs interceptors only for methods the server serves, so this stays bounded
 * (served methods x 17 codes).
 */
const series = new Map<
  string,
  {
    handled: ReturnType<typeof rpcServerHandled.labels>;
    duration: ReturnType<typeof rpcServerDuration.labels>;
  }
>();

function seriesOf(path: string, code: GrpcStatus) {
  const key = `${code} ${path}`;
  let found = series.get(key);
  if (!found) {
    const [, service = 'unknown', name = 'unknown'] = path.split('/');
    const labels = {
      grpc_service: service,
      grpc_method: name,
      grpc_code: GrpcStatus[code] ?? String(code),
    };
    found = {
      handled: rpcServerHandled.labels(labels),
      duration: rpcServerDuration.labels(labels),
    };
    series.set(key, found);
  }
  return found;
}
