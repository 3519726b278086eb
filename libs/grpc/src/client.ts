import {
  ChannelCredentials,
  Metadata,
  loadPackageDefinition,
  type Client,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceError,
  type status as GrpcStatus,
} from '@grpc/grpc-js';
import { cinodePackageDefinition } from '@cinode/proto';
import { context, propagation } from '@opentelemetry/api';
import { METADATA_SETTER } from './trace-metadata';
import type { Observable } from 'rxjs';

/** Per-call options of a generated client. */
export interface CallOptions {
  /** Overrides the client's default timeout for this call. */
  timeoutMs?: number;
  metadata?: Metadata;
}

/**
 * A promise-based client typed from a ts-proto `...ServiceClient` interface: every unary method
 * takes the request and optional call options and resolves with the response.
 */
export type PromiseClient<C> = {
  [K in keyof C]: C[K] extends (request: infer Req, metadata?: Metadata) => Observable<infer Res>
    ? (request: Req, options?: CallOptions) => Promise<Res>
    : never;
};

export interface ClientSettings {
  /** host:port */
  address: string;
  /** Deadline applied to every call that does not set its own; always set, never infinite. */
  defaultTimeoutMs?: number;
  /**
   * How the channel is secured: `clientCredentials(transport)` from the config, or
   * `credentials.createInsecure()` where plaintext is meant. Never defaulted: a forgotten setting
   * must not quietly become plaintext.
   */
  credentials: ChannelCredentials;
  /** Supplies the bearer token sent with every call, e.g. a service identity token. */
  token?: () => string | Promise<string>;
  channelOptions?: Record<string, string | number>;
  /**
   * Connections the unary calls are spread over, one after the other (default 1). A service
   * admits GRPC_MAX_CONCURRENT_STREAMS (64) calls at once per connection, and grpc-js otherwise
   * shares one connection per address across the process: a caller that may have more calls open
   * to one peer (a service center's orders, reporting's deliveries) asks for a few. Streaming
   * calls made through `raw` use the first.
   */
  connections?: number;
}

export interface GrpcClient<C> {
  api: PromiseClient<C>;
  raw: Client;
  close(): void;
}

const DEFAULT_TIMEOUT_MS = 10_000;

let grpcRoot: GrpcObject | undefined;

function serviceConstructor(fullName: string): ServiceClientConstructor {
  grpcRoot ??= loadPackageDefinition(cinodePackageDefinition());
  let node: unknown = grpcRoot;
  for (const part of fullName.split('.')) {
    node = (node as Record<string, unknown> | undefined)?.[part];
  }
  if (typeof node !== 'function') throw new Error(`unknown gRPC service ${fullName}`);
  return node as ServiceClientConstructor;
}

/**
 * Connections of a client whose calls to one peer may pile up (orders, holds, report deliveries,
 * identifier issuance): up to 4 x GRPC_MAX_CONCURRENT_STREAMS open at once before they queue.
 */
export const PEER_CONNECTIONS = 4;

/** Longest wait between attempts to reach a peer that refused or dropped the connection. */
export const MAX_RECONNECT_BACKOFF_MS = 5_000;

/**
 * Creates a client for a cinode gRPC service by its fully qualified name. Every call carries a
 * deadline (the per-call timeout or the client's default), so nothing waits forever on a peer.
 */
export function createGrpcClient<C>(
  fullServiceName: string,
  settings: ClientSettings,
): GrpcClient<C> {
  if ((settings.credentials as ChannelCredentials | undefined) === undefined) {
    throw new Error(
      `createGrpcClient(${fullServiceName}): credentials are required ` +
        '(clientCredentials(transport), or credentials.createInsecure() for plaintext)',
    );
  }
  const Ctor = serviceConstructor(fullServiceName);
  const connections = Math.max(1, Math.floor(settings.connections ?? 1));
  const channels = Array.from(
    { length: connections },
    () =>
      new Ctor(settings.address, settings.credentials, {
        'grpc.keepalive_time_ms': 60_000,
        // grpc-js backs off reconnecting up to 120 s by default, failing every call meanwhile: a
        // peer back after a minute's outage would stay unreachable for up to two more. A node's
        // services have a few peers each, so a reconnect every few seconds at most costs little and
        // heals fast. Clients with many siblings (the provider agents) pass a longer cap.
        'grpc.max_reconnect_backoff_ms': MAX_RECONNECT_BACKOFF_MS,
        // Several connections: each channel its own, instead of grpc-js's one per address.
        ...(connections > 1 ? { 'grpc.use_local_subchannel_pool': 1 } : {}),
        ...settings.channelOptions,
      }),
  );
  const raw = channels[0];
  let next = 0;
  const defaultTimeout = settings.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const api: Record<string, unknown> = {};
  for (const [rpcName, definition] of Object.entries(Ctor.service)) {
    if (definition.requestStream || definition.responseStream) continue;
    const methodName = definition.originalName ?? rpcName;
    type UnaryMethod = (
      request: unknown,
      metadata: Metadata,
      options: { deadline: Date },
      callback: (error: ServiceError | null, response: unknown) => void,
    ) => void;
    api[methodName] = async (request: unknown, options: CallOptions = {}) => {
      const metadata = options.metadata?.clone() ?? new Metadata();
      // The caller's trace continues in the service called (the gRPC instrumentation, when it is
      // on, replaces this with its own client span's context).
      propagation.inject(context.active(), metadata, METADATA_SETTER);
      if (settings.token && !metadata.get('authorization').length) {
        metadata.set('authorization', `Bearer ${await settings.token()}`);
      }
      const deadline = new Date(Date.now() + (options.timeoutMs ?? defaultTimeout));
      const channel = channels[next];
      next = (next + 1) % connections;
      const method = (channel as unknown as Record<string, UnaryMethod>)[rpcName];
      return new Promise((resolve, reject) => {
        method.call(
          channel,
          request,
          metadata,
          { deadline },
          (error: ServiceError | null, response: unknown) => {
            if (error) reject(error);
            else resolve(response);
          },
        );
      });
    };
  }
  return {
    api: api as PromiseClient<C>,
    raw,
    close: () => {
      for (const channel of channels) channel.close();
    },
  };
}

/** True when a rejection is a gRPC error with the given status code. */
export function isGrpcError(error: unknown, code?: GrpcStatus): error is ServiceError {
  if (typeof error !== 'object' || error === null || !('code' in error) || !('metadata' in error))
    return false;
  return code === undefined || (error as ServiceError).code === code;
}
