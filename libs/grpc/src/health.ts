import {
  status as GrpcStatus,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import {
  HealthCheckResponse_ServingStatus as ServingStatus,
  type HealthCheckRequest,
  type HealthCheckResponse,
} from '@cinode/proto/gen/grpc/health/v1/health';

export { ServingStatus };

/**
 * The standard grpc.health.v1.Health service. "" is the server as a whole; each served service is
 * registered by its fully qualified name. Watch streams push every change until the call ends.
 */
export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Map<
    string,
    Set<ServerWritableStream<HealthCheckRequest, HealthCheckResponse>>
  >();

  constructor(services: readonly string[]) {
    this.statuses.set('', ServingStatus.NOT_SERVING);
    for (const service of services) this.statuses.set(service, ServingStatus.NOT_SERVING);
  }

  /** Sets every registered service (and the server) to one status. */
  setAll(status: ServingStatus): void {
    for (const service of this.statuses.keys()) this.set(service, status);
  }

  set(service: string, status: ServingStatus): void {
    this.statuses.set(service, status);
    for (const call of this.watchers.get(service) ?? []) call.write({ status });
  }

  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Ends every Watch stream, so a graceful shutdown is not held open by them. */
  endWatches(): void {
    for (const calls of this.watchers.values()) for (const call of calls) call.end();
    this.watchers.clear();
  }

  implementation(): UntypedServiceImplementation {
    return {
      Check: (
        call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>,
        callback: sendUnaryData<HealthCheckResponse>,
      ) => {
        const status = this.statuses.get(call.request.service);
        if (status === undefined) {
          callback({
            code: GrpcStatus.NOT_FOUND,
            details: `unknown service "${call.request.service}"`,
          });
          return;
        }
        callback(null, { status });
      },
      Watch: (call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
        const service = call.request.service;
        call.write({ status: this.statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN });
        let set = this.watchers.get(service);
        if (!set) {
          set = new Set();
          this.watchers.set(service, set);
        }
        set.add(call);
        call.on('cancelled', () => set.delete(call));
        call.on('close', () => set.delete(call));
      },
    };
  }
}
