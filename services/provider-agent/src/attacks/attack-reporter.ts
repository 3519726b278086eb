import { status as GrpcStatus } from '@grpc/grpc-js';
import { decodeRichStatus, isGrpcError } from '@cinode/grpc';
import type { AttackEventInput } from '@cinode/proto/gen/cinode/security/v1/security_service';
import type { Logger } from 'pino';

/** Events per SubmitAttackEvents call (the node's maximum). */
export const MAX_ATTACK_BATCH = 500;

export interface AttackReporterOptions {
  /** Delay before the first retry of a batch the node could not take; doubles up to `retryMaxMs`. */
  retryInitialMs: number;
  retryMaxMs: number;
  /** Waits between retries; resolves early when the agent stops. */
  sleep: (ms: number) => Promise<void>;
  /** True once the agent is stopping: nothing more is sent. */
  stopping: () => boolean;
}

/** `events[12].attacker_ip` → 12. */
const EVENT_FIELD = /^events\[(\d+)\]/;

/**
 * Sends attack events to the node (SecurityService.SubmitAttackEvents), in order and in batches of
 * at most 500, without losing any to an outage: a batch leaves the queue only once the node took
 * it. UNAVAILABLE, DEADLINE_EXCEEDED and other failures that say nothing of the events themselves
 * are retried with a growing delay. Events the node refuses are skipped, logged: INVALID_ARGUMENT
 * names them (`events[i]...`), so just those are dropped and the rest sent again; a refusal that
 * names none (FAILED_PRECONDITION: an event id sent before with other facts) is narrowed down by
 * halving the batch until the refused event is alone.
 */
export class AttackReporter {
  private readonly queue: AttackEventInput[] = [];
  /** Events the node took, and events it refused (skipped). */
  readonly totals = { sent: 0, skipped: 0 };

  constructor(
    private readonly submit: (events: AttackEventInput[]) => Promise<unknown>,
    private readonly logger: Logger,
    private readonly options: AttackReporterOptions,
  ) {}

  /** Events waiting to be sent. */
  get pending(): number {
    return this.queue.length;
  }

  enqueue(events: readonly AttackEventInput[]): void {
    this.queue.push(...events);
  }

  /** Sends what is queued; returns early, keeping the rest, when the agent stops. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 && !this.options.stopping()) {
      const batch = this.queue.slice(0, MAX_ATTACK_BATCH);
      const delivered = await this.send(batch);
      if (!delivered) return;
      this.queue.splice(0, batch.length);
    }
  }

  /** True once every event of the batch was taken or skipped; false when stopped first. */
  private async send(events: AttackEventInput[]): Promise<boolean> {
    let batch = events;
    let delay = this.options.retryInitialMs;
    for (let attempt = 1; ; attempt += 1) {
      if (this.options.stopping()) return false;
      try {
        await this.submit(batch);
        this.totals.sent += batch.length;
        return true;
      } catch (error) {
        const code = isGrpcError(error) ? error.code : undefined;
        if (code === GrpcStatus.INVALID_ARGUMENT) {
          const refused = refusedEvents(error);
          if ([...refused.keys()].some((index) => index < batch.length)) {
            batch = batch.filter((event, index) => {
              const problems = refused.get(index);
              if (problems) this.skip(event, problems.join('; '));
              return !problems;
            });
            if (batch.length === 0) return true;
            continue;
          }
        }
        if (code === GrpcStatus.INVALID_ARGUMENT || code === GrpcStatus.FAILED_PRECONDITION)
          return this.narrowDown(batch, error);
        if (attempt === 1 || attempt % 10 === 0)
          this.logger.warn(
            { err: error, reason: reasonOf(error), events: batch.length },
            'the node did not take the attack events; retrying',
          );
        await this.options.sleep(delay);
        delay = Math.min(this.options.retryMaxMs, delay * 2);
      }
    }
  }

  private async narrowDown(batch: AttackEventInput[], error: unknown): Promise<boolean> {
    if (batch.length === 1) {
      this.skip(batch[0], `${reasonOf(error) ?? 'refused'}: ${messageOf(error)}`);
      return true;
    }
    const half = Math.ceil(batch.length / 2);
    return (await this.send(batch.slice(0, half))) && this.send(batch.slice(half));
  }

  private skip(event: AttackEventInput, why: string): void {
    this.totals.skipped += 1;
    this.logger.error(
      { eventId: event.eventId },
      `attack event ${event.eventId} refused by the node and skipped: ${why}`,
    );
  }
}

/** The events a validation error names, with what was wrong with each, by index in the batch. */
function refusedEvents(error: unknown): Map<number, string[]> {
  const refused = new Map<number, string[]>();
  if (!isGrpcError(error)) return refused;
  for (const violation of decodeRichStatus(error)?.fieldViolations ?? []) {
    const match = EVENT_FIELD.exec(violation.field);
    if (!match) continue;
    const index = Number(match[1]);
    refused.set(index, [
      ...(refused.get(index) ?? []),
      `${violation.field} ${violation.description}`,
    ]);
  }
  return refused;
}

function reasonOf(error: unknown): string | undefined {
  return isGrpcError(error) ? decodeRichStatus(error)?.errorInfo?.reason : undefined;
}

function messageOf(error: unknown): string {
  if (isGrpcError(error)) return error.details || error.message;
  return error instanceof Error ? error.message : String(error);
}
