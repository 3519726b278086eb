import {
  ServerInterceptingCall,
  status as GrpcStatus,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { rpcServerMetrics, type RpcSeries } from '@cinode/telemetry';

/**
 * Counts and times every call by method and final status code. It sits in grpc-js itself, below
 * Nest, so it sees what the caller sees: calls refused by the auth guard, errors mapped by the
 * exception filter, deadline cuts, health and reflection.
 */
export const rpcMetricsInterceptor: ServerInterceptor = (method, call) => {
  const started = performance.now();
  const path = method.path;
  return new ServerInterceptingCall(call, {
    sendStatus(status, next) {
      seriesOf(path, status.code).record((performance.now() - started) / 1e3);
      next(status);
    },
  });
};

/**
 * The series of a method and status code, looked up once per path. grpc-js runs interceptors only
 * for methods the server serves, so this stays bounded (served methods x 17 codes).
 */
const series = new Map<string, RpcSeries[]>();

function seriesOf(path: string, code: GrpcStatus): RpcSeries {
  let ofPath = series.get(path);
  if (!ofPath) series.set(path, (ofPath = []));
  let found = ofPath[code];
  if (!found) {
    const [, service = 'unknown', name = 'unknown'] = path.split('/');
    found = rpcServerMetrics.seriesOf(service, name, GrpcStatus[code] ?? String(code));
    ofPath[code] = found;
  }
  return found;
}
