import { Injectable, Logger } from '@nestjs/common';
import {
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  PIPES_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { GrpcMethodStreamingType } from '@nestjs/microservices';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import type {
  Metadata,
  sendUnaryData,
  ServerReadableStream,
  ServerWritableStream,
} from '@grpc/grpc-js';
import type {
  ClientStreamHandler,
  ServerStreamHandler,
  DirectDispatch,
  GrpcErrorPayload,
  UnaryHandler,
} from '@cinode/grpc';
import type { CallResult } from '@cinode/audit';
import {
  CallPipeline,
  checkRequestShape,
  type HandlerDeclarations,
} from './call-pipeline.interceptor';

interface GrpcPattern {
  service?: string;
  rpc?: string;
  streaming?: string;
}

/** Application-wide Nest enhancers other than the platform's; any of them keeps every RPC on Nest. */
const GLOBAL_ENHANCERS = ['APP_GUARD', 'APP_PIPE', 'APP_FILTER', 'APP_INTERCEPTOR'];

interface DirectMethod {
  instance: Record<string, (...args: unknown[]) => unknown>;
  name: string;
  declared: HandlerDeclarations;
  /** Unary (@GrpcMethod), or a stream of requests as an Observable (@GrpcStreamMethod). */
  streaming: boolean;
}

/** Nest enhancers a handler may carry itself, which only Nest's own call path applies. */
const NEST_ENHANCERS = [
  INTERCEPTORS_METADATA,
  GUARDS_METADATA,
  PIPES_METADATA,
  EXCEPTION_FILTERS_METADATA,
];

/**
 * Serves a service's unary RPCs from the grpc-js server through the CallPipeline, calling the
 * controller's method directly, as Nest would with its default arguments (request, metadata, call).
 * A handler with Nest enhancers of its own (@UseInterceptors, @UseGuards, @UsePipes, @UseFilters,
 * on it or its controller) or parameter decorators, and request-scoped controllers, stay on Nest's
 * path, where the same pipeline runs as an interceptor.
 */
@Injectable()
export class DirectCallDispatcher implements DirectDispatch {
  private readonly logger = new Logger(DirectCallDispatcher.name);
  private methods: Map<string, DirectMethod | null> | undefined;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly pipeline: CallPipeline,
  ) {}

  unary(
    path: string,
    toStatus: (error: unknown, path: string) => GrpcErrorPayload,
  ): UnaryHandler | undefined {
    const method = this.lookup(path);
    if (!method || method.streaming) return undefined;
    const { instance, name, declared } = method;
    return (call, callback) => {
      const metadata: Metadata = call.metadata;
      const request = call.request;
      respond(path, toStatus, callback, () =>
        this.pipeline.handle(declared, metadata, request, call, () =>
          instance[name](request, metadata, call),
        ),
      );
    };
  }

  /**
   * A client-streaming RPC (declared with @GrpcStreamMethod). Its handler receives the requests as
   * an AsyncIterable, read one at a time: a client sending faster than the handler works is held
   * back by HTTP/2 flow control instead of filling memory, each request passes the platform's
   * request checks as it is read, and the handler's work runs inside the call (its deadline, its
   * audit record: the first transaction that changes something writes it, the outcome settles
   * it). The caller closing its side ends the iteration, and so may its cancelling (check
   * `call.cancelled` before treating the end as complete); a failed stream throws.
   */
  clientStream(
    path: string,
    toStatus: (error: unknown, path: string) => GrpcErrorPayload,
  ): ClientStreamHandler | undefined {
    const method = this.lookup(path);
    if (!method?.streaming) return undefined;
    const { instance, name, declared } = method;
    return (call, callback) => {
      const metadata: Metadata = call.metadata;
      respond(path, toStatus, callback, () =>
        this.pipeline.handle(
          declared,
          metadata,
          {},
          call,
          () => instance[name](checkedRequests(call), metadata, call),
          true,
        ),
      );
    };
  }

  /**
   * A server-streaming RPC (declared with @GrpcMethod, like a unary one). Its handler returns an
   * AsyncIterable of the responses; each is written as the caller takes them (HTTP/2 flow control:
   * the next one is asked for only once the previous one is sent), so a slow reader holds the
   * handler back instead of filling memory. The caller cancelling, or its own deadline passing,
   * ends the iteration (the iterator's `return` runs its `finally`); there is no server-side cap on
   * how long a stream lasts. It must be `@ReadOnly()`: a stream changes nothing.
   */
  serverStream(
    path: string,
    toStatus: (error: unknown, path: string) => GrpcErrorPayload,
  ): ServerStreamHandler | undefined {
    const method = this.lookup(path);
    if (!method || method.streaming) return undefined;
    const { instance, name, declared } = method;
    if (declared.declaration?.kind === 'audited')
      throw new Error(`${path}: a server-streaming RPC changes nothing; declare it @ReadOnly()`);
    return (call) => {
      const metadata: Metadata = call.metadata;
      const request: unknown = call.request;
      void this.pipeline
        .stream(declared, metadata, request, call, (signal) =>
          writeAll(call, instance[name](request, metadata, call) as AsyncIterable<unknown>, signal),
        )
        .then((result) => {
          if (result.ok) call.end();
          else call.emit('error', toStatus(result.error, path));
        });
    };
  }

  /**
   * `/package.Service/Method`, matched as Nest matches it: by the service's short name first, then
   * its full one; a key whose handler Nest serves (null) is Nest's, whatever else is declared.
   */
  private lookup(path: string): DirectMethod | undefined {
    this.methods ??= this.collect();
    const [, qualified = '', rpc = ''] = path.split('/');
    const short = qualified.slice(qualified.lastIndexOf('.') + 1);
    for (const key of [`${short}/${rpc}`, `${qualified}/${rpc}`]) {
      const method = this.methods.get(key);
      if (method !== undefined) return method ?? undefined;
    }
    return undefined;
  }

  /** Pattern -> handler, or null where Nest must serve it; the last declaration wins, as in Nest. */
  private collect(): Map<string, DirectMethod | null> {
    const methods = new Map<string, DirectMethod | null>();
    // An application-wide guard, pipe, filter or interceptor of the service's own would be skipped
    // on the direct path: then everything stays on Nest's.
    const globals = this.discovery
      .getProviders()
      .filter(
        (wrapper) =>
          typeof wrapper.token === 'string' &&
          GLOBAL_ENHANCERS.some((kind) => String(wrapper.token).startsWith(`${kind} (`)) &&
          wrapper.instance !== this.pipeline,
      );
    if (globals.length > 0) {
      this.logger.warn(
        `application-wide Nest enhancers (${globals.map((w) => String(w.token)).join(', ')}): every RPC is served through Nest`,
      );
      return methods;
    }
    let kept = 0;
    for (const wrapper of this.discovery.getControllers()) {
      const instance = wrapper.instance as DirectMethod['instance'] | undefined;
      const controller = wrapper.metatype as (abstract new (...args: never[]) => unknown) | null;
      if (!instance || !controller || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      const classEnhanced = NEST_ENHANCERS.some((key) =>
        hasItems(Reflect.getMetadata(key, controller)),
      );
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        if (typeof handler !== 'function') continue;
        const patterns = Reflect.getMetadata(PATTERN_METADATA, handler) as
          | GrpcPattern[]
          | undefined;
        if (!patterns) continue;
        const enhanced =
          classEnhanced ||
          NEST_ENHANCERS.some((key) => hasItems(Reflect.getMetadata(key, handler))) ||
          Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) !== undefined;
        for (const pattern of patterns) {
          const key = `${pattern.service}/${pattern.rpc}`;
          const streaming = pattern.streaming === GrpcMethodStreamingType.RX_STREAMING;
          // Nest would hand such a handler an Observable, not the AsyncIterable it reads.
          if (streaming && enhanced)
            throw new Error(
              `${key}: a client-streaming handler is served by the kit directly and cannot carry Nest enhancers of its own`,
            );
          if (
            (pattern.streaming !== GrpcMethodStreamingType.NO_STREAMING && !streaming) ||
            enhanced
          ) {
            kept += 1;
            methods.set(key, null);
            continue;
          }
          methods.set(key, {
            instance,
            name,
            declared: this.pipeline.declarationsOf(controller, handler),
            streaming,
          });
        }
      }
    }
    this.logger.debug(`${methods.size - kept} RPC(s) served directly, ${kept} through Nest`);
    return methods;
  }
}

/** Writes each response as the caller takes it, until the iterable ends or the call is aborted. */
async function writeAll(
  call: ServerWritableStream<unknown, unknown>,
  responses: AsyncIterable<unknown>,
  signal: AbortSignal,
): Promise<void> {
  const iterator = responses[Symbol.asyncIterator]();
  try {
    while (!signal.aborted) {
      const next = await iterator.next();
      if (next.done || signal.aborted) return;
      if (!call.write(next.value)) await drained(call, signal);
    }
  } finally {
    // Lets the handler's `finally` run (a generator stops at its current `yield`).
    await iterator.return?.();
  }
}

function drained(call: ServerWritableStream<unknown, unknown>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.on('drain', done);
    signal.addEventListener('abort', done);
  });
}

function hasItems(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : value !== undefined;
}

/** Answers a grpc-js call with what the pipeline settles on, at once when it settled already. */
function respond(
  path: string,
  toStatus: (error: unknown, path: string) => GrpcErrorPayload,
  callback: sendUnaryData<unknown>,
  handle: () => CallResult | Promise<CallResult>,
): void {
  const answer = (result: CallResult): void =>
    result.ok ? callback(null, result.response) : callback(toStatus(result.error, path));
  let handling: CallResult | Promise<CallResult>;
  try {
    handling = handle();
  } catch (error) {
    callback(toStatus(error, path));
    return;
  }
  if (handling instanceof Promise)
    handling.then(answer, (error: unknown) => callback(toStatus(error, path)));
  else answer(handling);
}

/** The requests of a client stream, each checked as it is read. */
async function* checkedRequests(
  call: ServerReadableStream<unknown, unknown>,
): AsyncGenerator<unknown, void, undefined> {
  for await (const request of call as AsyncIterable<unknown>) {
    checkRequestShape(request);
    yield request;
  }
}
