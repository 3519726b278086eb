import { ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import type { DomainError } from '@cinode/common';
import type { GrpcErrorPayload } from './rich-status';

/** What the server knows of a call as its headers arrive. */
export interface ArrivingCall {
  getPeer(): string;
  getConnectionInfo(): { remoteAddress?: string };
}

/**
 * What decides, as a call's headers arrive, whether the service takes it at all: the kit's
 * WireGate (the address lists, then the LoadShedder). Provided under ADMISSION_GATE by a service's module; startGrpcService installs it
 * in the server (WireAdmission).
 */
export interface AdmissionGate {
  /**
   * Told once the server asks this gate for every call before reading its request: a refusal the
   * gate gives here must not be given again further on (that would shed twice the share).
   */
  attachToWire(): void;
  /**
   * Why a call to `path` arriving now is refused, or undefined to take it. The same error object
   * each time it is the same refusal: its status is encoded once per path and error. A domain
   * error, so that it maps to its own status (anything else would become INTERNAL).
   */
  wireRefusal(path: string, call: ArrivingCall): DomainError | undefined;
}

export const ADMISSION_GATE = Symbol('ADMISSION_GATE');

/** Health and reflection answer however loaded the service is: orchestrators and tools rely on them. */
function exempt(path: string): boolean {
  return path.startsWith('/grpc.');
}

/**
 * Refuses calls as their headers arrive, before grpc-js reads or decodes the request and before
 * Nest, authentication or the handler see it: a refusal then costs the HTTP/2 stream and a
 * trailers-only answer, a fraction of what the same refusal costs inside the call pipeline. Under
 * overload that is what decides how much of the service's time is left for the calls it takes.
 *
 * The interceptor is placed when the server is made; the gate and the status encoder are installed
 * once the service's module exists. Until then, and for services without a gate, every call passes.
 */
export class WireAdmission {
  private gate: AdmissionGate | undefined;
  private toStatus: ((error: DomainError, path: string) => GrpcErrorPayload) | undefined;
  /**
   * The statuses given per path, by error, so each refusal is encoded once. Bounded: grpc-js runs
   * interceptors only for the methods served (an unknown path is UNIMPLEMENTED before), and a gate
   * refuses with a few constant errors. The payloads are shared by every refusal: grpc-js clones
   * their metadata when it sends them, and no interceptor may change a status it passes on.
   */
  private readonly encoded = new Map<string, Map<DomainError, GrpcErrorPayload>>();

  install(
    gate: AdmissionGate,
    toStatus: (error: DomainError, path: string) => GrpcErrorPayload,
  ): void {
    this.gate = gate;
    this.toStatus = toStatus;
    gate.attachToWire();
  }

  readonly interceptor: ServerInterceptor = (method, call) => {
    const { gate, toStatus } = this;
    // A call taken goes on unwrapped: grpc-js only uses the returned call through its interface
    // (its type names the class), and a wrapper per call would cost every call taken.
    const taken = call as ServerInterceptingCall;
    if (!gate || !toStatus || exempt(method.path)) return taken;
    let status: GrpcErrorPayload;
    try {
      const error = gate.wireRefusal(method.path, call);
      if (!error) return taken;
      status = this.statusOf(error, method.path, toStatus);
    } catch {
      // grpc-js does not catch what an interceptor throws: the process would go down. A gate that
      // fails takes the call; the call pipeline still checks it.
      return taken;
    }
    const refusing: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start(next) {
        // The request is never read: the handler's listener hears nothing, the answer goes out
        // with the headers, and grpc-js drops the stream's data once the status is sent.
        next({
          onReceiveMetadata() {
            refusing.sendStatus(status);
          },
          onReceiveMessage() {},
          onReceiveHalfClose() {},
        });
      },
    });
    return refusing;
  };

  private statusOf(
    error: DomainError,
    path: string,
    toStatus: (error: DomainError, path: string) => GrpcErrorPayload,
  ): GrpcErrorPayload {
    let ofPath = this.encoded.get(path);
    if (!ofPath) this.encoded.set(path, (ofPath = new Map<DomainError, GrpcErrorPayload>()));
    let status = ofPath.get(error);
    if (!status) {
      status = Object.freeze(toStatus(error, path));
      // A gate that makes a new error per call would grow this: keep the last few only.
      if (ofPath.size >= 8) ofPath.clear();
      ofPath.set(error, status);
    }
    return status;
  }
}
