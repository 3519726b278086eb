import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  EventConsumerRegistry,
  NATS_CONNECTION,
  deadLetterSubject,
  type EventEnvelope,
  type EventHandlerContext,
} from '@cinode/events';
import { fromTimestamp, isGrpcError, toTimestamp } from '@cinode/grpc';
import { headers, type NatsConnection } from 'nats';
import { IDENTIFIER_CONFIG, type IdentifierConfig } from '../config';
import { IDENTIFIER_EVENTS } from '../identifiers/identifier-events';
import { nationalObjectTypeOf } from '../identifiers/identifiers.mapper';
import { IdentifiersRepository } from '../identifiers/identifiers.repository';
import { IdentifiersService } from '../identifiers/identifiers.service';
import { NationalNodeGateway, type NationalNode } from '../national/national-node.gateway';

export const FILING_CONSUMER = 'identifier-filing';
const ACTOR = 'system:filing';

/**
 * National node answers worth waiting out: it is down, slow, overloaded, or not yet trusting our
 * service key (fixable by configuration without losing the filing). Everything else it answers is
 * a verdict on the filing itself.
 */
const TRANSIENT = new Set<number>([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.ABORTED,
  GrpcStatus.INTERNAL,
  GrpcStatus.UNKNOWN,
  GrpcStatus.CANCELLED,
  GrpcStatus.UNAUTHENTICATED,
  GrpcStatus.PERMISSION_DENIED,
]);

export function isPermanentFilingError(error: unknown): boolean {
  return isGrpcError(error) && !TRANSIENT.has(error.code);
}

function identifierOf(envelope: EventEnvelope<unknown>): string {
  const data = envelope.data;
  if (
    typeof data !== 'object' ||
    data === null ||
    typeof (data as { identifier?: unknown }).identifier !== 'string'
  ) {
    throw new Error(`event ${envelope.id} carries no identifier`);
  }
  return (data as { identifier: string }).identifier;
}

/**
 * Files issued identifiers with the national node. Driven by the `issued` events this service put
 * in its outbox, so a filing survives the national node being down and this service restarting.
 * Each event is handled in one transaction with the identifier row locked; the filing number is
 * stored in that transaction. If the process dies after the national node accepted but before the
 * commit, the redelivered event files again and FileIdentifier — idempotent on the identifier, and
 * sent the identical content (allocated_at is the stored issue time) — returns the same filing.
 *
 * Transient failures are thrown: the consumer naks with a growing, jittered delay and, with
 * maxDeliver effectively unbounded, never dead-letters them. A rejection is recorded on the record
 * (filing_error), copied to the dead-letter subject for a person to look at, and acked.
 */
@Injectable()
export class FilingConsumer implements OnModuleInit {
  private readonly logger = new Logger(FilingConsumer.name);

  constructor(
    private readonly registry: EventConsumerRegistry,
    private readonly identifiers: IdentifiersRepository,
    private readonly service: IdentifiersService,
    @Inject(NationalNodeGateway) private readonly nationalNode: NationalNode,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(IDENTIFIER_CONFIG) private readonly config: IdentifierConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.registry.register({
      name: FILING_CONSUMER,
      stream: 'IDENTIFIER',
      filterSubject: IDENTIFIER_EVENTS.issued,
      handle: (envelope, context) => this.handle(envelope, context),
      maxDeliver: Number.MAX_SAFE_INTEGER,
      backoff: {
        initialMs: this.config.FILING_RETRY_INITIAL_MS,
        maxMs: this.config.FILING_RETRY_MAX_MS,
        multiplier: 2,
        jitter: 0.2,
      },
      // Longer than a national node call's deadline, so a slow call is not redelivered mid-flight.
      ackWaitMs: this.config.NATIONAL_NODE_TIMEOUT_MS + 20_000,
      prefetch: 10,
    });
  }

  async handle(envelope: EventEnvelope<unknown>, context: EventHandlerContext): Promise<void> {
    const { manager } = context;
    const identifier = identifierOf(envelope);
    const entity = await this.identifiers.findForUpdate(manager, identifier);
    if (!entity) {
      // An event from another installation sharing the stream, or a deleted database: nothing to file.
      this.logger.warn(
        `issued event ${envelope.id} names unknown identifier ${identifier}; skipped`,
      );
      return;
    }
    if (entity.filingNumber || entity.state !== 'pending_filing' || entity.filingError) return;
    let response;
    try {
      response = await this.nationalNode.fileIdentifier({
        nodeCode: entity.nodeCode,
        identifier: entity.identifier,
        objectType: nationalObjectTypeOf(entity.objectType),
        objectName: entity.objectName,
        ownerName: entity.ownerName,
        ownerCreditCode: entity.ownerCreditCode,
        attributes: entity.attributes,
        allocatedAt: toTimestamp(entity.issuedAt),
      });
    } catch (error) {
      if (!isPermanentFilingError(error)) {
        this.logger.warn(
          `filing ${identifier} failed (delivery ${context.deliveryCount}), will retry: ${error instanceof Error ? error.message : String(error)}`,
        );
        throw error;
      }
      const message = error instanceof Error ? error.message : String(error);
      this.logger.error(`the national node rejected the filing of ${identifier}: ${message}`);
      await this.service.recordFilingRejected(manager, identifier, message);
      await this.park(envelope, context, message);
      return;
    }
    const filing = response.filing;
    if (!filing?.filingNumber)
      throw new Error(`the national node filed ${identifier} without a filing number`);
    await this.service.recordFiled(
      manager,
      entity,
      filing.filingNumber,
      filing.filedAt ? fromTimestamp(filing.filedAt) : new Date(),
      ACTOR,
    );
  }

  /** A copy on the dead-letter subject, like the consumer's own parking, for an operator to review. */
  private async park(
    envelope: EventEnvelope<unknown>,
    context: EventHandlerContext,
    error: string,
  ): Promise<void> {
    const h = headers();
    h.set('Cinode-Dlq-Consumer', FILING_CONSUMER);
    h.set('Cinode-Dlq-Subject', context.subject);
    h.set('Cinode-Dlq-Stream-Sequence', String(context.streamSequence));
    h.set('Cinode-Dlq-Error', error.replace(/[\r\n]+/g, ' ').slice(0, 1024));
    h.set('Cinode-Dlq-Time', new Date().toISOString());
    await this.nc
      .jetstream()
      .publish(deadLetterSubject(FILING_CONSUMER), Buffer.from(JSON.stringify(envelope)), {
        headers: h,
        msgID: `${FILING_CONSUMER}:${envelope.id}`,
      });
  }
}
