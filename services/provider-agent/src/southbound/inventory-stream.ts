import type { ClientWritableStream, Metadata, ServiceError } from '@grpc/grpc-js';
import type { GrpcClient } from '@cinode/grpc';
import {
  StreamInventoryRequest,
  StreamInventoryResponse,
  type InventorySnapshot,
  type ResourceServiceClient,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';

const METHOD = '/cinode.resource.v1.ResourceService/StreamInventory';
/** The node takes at most this many snapshots per batch. */
export const MAX_BATCH = 500;

export interface StreamTotals {
  batches: number;
  applied: number;
  ignored: number;
}

/**
 * One StreamInventory call: batches written as they come, closed after `lifetimeMs` (the node cuts
 * a stream at its maximum deadline) and then reopened by the caller. A write to a call that
 * failed throws its error, so the caller opens a new one.
 */
export class InventoryStream {
  private readonly call: ClientWritableStream<StreamInventoryRequest>;
  private failure: Error | undefined;
  readonly done: Promise<StreamTotals>;
  readonly closesAtMs: number;

  constructor(
    client: GrpcClient<ResourceServiceClient>,
    metadata: Metadata,
    lifetimeMs: number,
    deadlineMarginMs: number,
  ) {
    this.closesAtMs = Date.now() + lifetimeMs;
    let settle!: (totals: StreamTotals) => void;
    let fail!: (error: ServiceError) => void;
    this.done = new Promise<StreamTotals>((resolve, reject) => {
      settle = resolve;
      fail = reject;
    });
    // Settled here so an unawaited failure is not an unhandled rejection; callers read `failure`.
    this.done.catch(() => undefined);
    this.call = client.raw.makeClientStreamRequest(
      METHOD,
      (message: StreamInventoryRequest) =>
        Buffer.from(StreamInventoryRequest.encode(message).finish()),
      (bytes: Buffer) => StreamInventoryResponse.decode(bytes),
      metadata,
      { deadline: this.closesAtMs + deadlineMarginMs },
      (error, response) => {
        if (error) {
          this.failure = error;
          fail(error);
        } else settle(response ?? { batches: 0, applied: 0, ignored: 0 });
      },
    );
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  /** Writes the snapshots in batches of at most MAX_BATCH; resolves once they are handed to HTTP/2. */
  async write(snapshots: readonly InventorySnapshot[]): Promise<void> {
    this.throwIfFailed();
    for (let i = 0; i < snapshots.length; i += MAX_BATCH) {
      const batch = { snapshots: snapshots.slice(i, i + MAX_BATCH) };
      // Flow control: a full buffer waits for the node to read (or for the call to end).
      if (!this.call.write(batch))
        await Promise.race([
          new Promise<void>((resolve) => this.call.once('drain', () => resolve())),
          this.done.then(
            () => undefined,
            () => undefined,
          ),
        ]);
      this.throwIfFailed();
    }
  }

  /** A method, not an inline check: the call's callback sets the failure between awaits. */
  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /** Closes our side and waits for the node's totals. */
  async end(): Promise<StreamTotals> {
    this.call.end();
    return this.done;
  }

  cancel(): void {
    this.call.cancel();
  }
}
