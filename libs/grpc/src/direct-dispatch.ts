import { ServerGrpc } from '@nestjs/microservices';
import type {
  sendUnaryData,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
} from '@grpc/grpc-js';
import type { GrpcErrorPayload } from './rich-status';

/** A grpc-js handler of one unary method. */
export type UnaryHandler = (
  call: ServerUnaryCall<unknown, unknown>,
  callback: sendUnaryData<unknown>,
) => void;

/** A grpc-js handler of one client-streaming method. */
export type ClientStreamHandler = (
  call: ServerReadableStream<unknown, unknown>,
  callback: sendUnaryData<unknown>,
) => void;

/** A grpc-js handler of one server-streaming method. */
export type ServerStreamHandler = (call: ServerWritableStream<unknown, unknown>) => void;

/**
 * Serves unary methods straight from the grpc-js server, without Nest's per-call context (its
 * interceptor chain, rxjs pipeline and exception zone), which cost more per call than the rest of
 * the stack together. A service provides one under DIRECT_DISPATCH; a method it does not take
 * (streaming, or a handler with Nest enhancers of its own) is served by Nest as before.
 */
export interface DirectDispatch {
  /** The handler for the method at this gRPC path, or undefined to leave it to Nest. */
  unary(
    path: string,
    toStatus: (error: unknown, path: string) => GrpcErrorPayload,
  ): UnaryHandler | undefined;
  /** The handler for the client-streaming method at this path, or undefined to leave it to Nest. */
  clientStream?(
    path: string,
    toStatus: (error: unknown, path: string) => GrpcErrorPayload,
  ): ClientStreamHandler | undefined;
  /** The handler for the server-streaming method at this path, or undefined to leave it to Nest. */
  serverStream?(
    path: string,
    toStatus: (error: unknown, path: string) => GrpcErrorPayload,
  ): ServerStreamHandler | undefined;
}

export const DIRECT_DISPATCH = Symbol.for('cinode.grpc.DirectDispatch');

/** What Nest hands createServiceMethod for each method of a proto service. */
interface ProtoMethod {
  path?: string;
  requestStream?: boolean;
  responseStream?: boolean;
}

/** Nest's gRPC server, asking a DirectDispatch first for every unary method it registers. */
export class DispatchingGrpcServer extends ServerGrpc {
  dispatch: DirectDispatch | undefined;
  toStatus: ((error: unknown, path: string) => GrpcErrorPayload) | undefined;

  override createServiceMethod(
    methodHandler: Parameters<ServerGrpc['createServiceMethod']>[0],
    protoNativeHandler: ProtoMethod,
    streamType: Parameters<ServerGrpc['createServiceMethod']>[2],
  ): ReturnType<ServerGrpc['createServiceMethod']> {
    const { path, requestStream, responseStream } = protoNativeHandler;
    if (this.dispatch && this.toStatus && path && responseStream && !requestStream) {
      const direct = this.dispatch.serverStream?.(path, this.toStatus);
      if (direct) return direct as unknown as ReturnType<ServerGrpc['createServiceMethod']>;
    }
    if (this.dispatch && this.toStatus && path && !responseStream) {
      const direct = requestStream
        ? this.dispatch.clientStream?.(path, this.toStatus)
        : this.dispatch.unary(path, this.toStatus);
      if (direct) return direct as unknown as ReturnType<ServerGrpc['createServiceMethod']>;
    }
    return super.createServiceMethod(methodHandler, protoNativeHandler, streamType);
  }
}
