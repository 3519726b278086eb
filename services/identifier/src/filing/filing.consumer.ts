import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { IdentifierIssuance, type ReceivedEvent } from '@cinode/contracts';
import {
  EventConsumerRegistry,
  type ConsumerDefinition,
  type EventHandlerContext,
} from '@cinode/events';
import { fromTimestamp, isGrpcError, toTimestamp } from '@cinode/grpc';
import { InjectConfig } from '@cinode/kit';
import type { FileIdentifierResponse } from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import type { IdentifierConfig } from '../config';
import { nationalObjectTypeOf } from '../identifiers/identifiers.mapper';
import { IdentifiersRepository } from '../identifiers/identifiers.repository';
import {
  IdentifierLifecycle,
  ownerSuspensionCause,
} from '../lifecycle/identifier-lifecycle.service';
import { NationalNodeGateway, type NationalNode } from '../national/national-node.gateway';
import { ParticipantsRepository } from '../participants/participants.repository';

export const FILING_CONSUMER = 'identifier-filing';
const ACTOR = 'system:filing';

type IssuedEvent = ReceivedEvent<(typeof IdentifierIssuance.events)[number]>;

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

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Files issued identifiers with the national node. Driven by the `issued` events this service put
 * in its outbox, so a filing survives the national node being down and this service restarting.
 * Each event is handled in one transaction with the identifier row locked; the filing number is
 * stored in that transaction. If the process dies after the national node accepted but before the
 * commit, the redelivered event files again and FileIdentifier — idempotent on the identifier, and
 * sent the identical content (allocated_at is the stored issue time) — returns the same filing.
 *
 * Transient failures are thrown: the platform's consumer naks them with this consumer's growing,
 * capped delay (FILING_RETRY_*), with no limit on deliveries. A rejection is recorded on the record
 * (filing_error), the event parked on the dead-letter subject for a person to look at, and acked.
 */
@Injectable()
export class FilingConsumer implements OnModuleInit {
  private readonly logger = new Logger(FilingConsumer.name);

  constructor(
    private readonly registry: EventConsumerRegistry,
    private readonly identifiers: IdentifiersRepository,
    private readonly participants: ParticipantsRepository,
    private readonly lifecycle: IdentifierLifecycle,
    @Inject(NationalNodeGateway) private readonly nationalNode: NationalNode,
    @InjectConfig() private readonly config: IdentifierConfig,
  ) {}

  definition(): ConsumerDefinition<(typeof IdentifierIssuance.events)[number]> {
    return {
      name: FILING_CONSUMER,
      source: IdentifierIssuance,
      handle: (event, context) => this.handle(event, context),
      backoff: {
        initialMs: this.config.FILING_RETRY_INITIAL_MS,
        maxMs: this.config.FILING_RETRY_MAX_MS,
      },
      // Longer than a national node call's deadline, so a slow call is not redelivered mid-flight.
      ackWaitMs: this.config.NATIONAL_NODE_TIMEOUT_MS + 20_000,
      prefetch: 10,
    };
  }

  async onModuleInit(): Promise<void> {
    await this.registry.register(this.definition());
  }

  async handle(event: IssuedEvent, context: EventHandlerContext): Promise<void> {
    const { tx } = context;
    const identifier = event.data.identifier;
    const entity = await this.identifiers.findForUpdate(tx, identifier);
    if (!entity) {
      // An event from another installation sharing the stream, or a deleted database: nothing to file.
      this.logger.warn(
        `issued event ${context.envelope.id} names unknown identifier ${identifier}; skipped`,
      );
      return;
    }
    if (entity.filingNumber || entity.state !== 'pending_filing' || entity.filingError) return;
    let response: FileIdentifierResponse;
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
          `filing ${identifier} failed (delivery ${context.deliveryCount}), will retry: ${messageOf(error)}`,
        );
        throw error;
      }
      const message = messageOf(error);
      this.logger.error(`the national node rejected the filing of ${identifier}: ${message}`);
      // Not a state change: the identifier stays PENDING_FILING, marked, until someone retires it.
      await this.identifiers.update(tx, identifier, { filingError: message.slice(0, 2000) });
      await context.deadLetter(message);
      return;
    }
    const filing = response.filing;
    if (!filing?.filingNumber)
      throw new Error(`the national node filed ${identifier} without a filing number`);
    const filed = await this.lifecycle.transition(tx, entity, {
      to: 'filed',
      actor: ACTOR,
      reason: `filed with the national node as ${filing.filingNumber}`,
      filing: {
        filingNumber: filing.filingNumber,
        filedAt: filing.filedAt ? fromTimestamp(filing.filedAt) : new Date(),
      },
    });
    // An owner suspended or revoked while the filing was in flight: its new identifier follows it at once.
    const owner = await this.participants.lockShared(tx, entity.ownerParticipantId);
    const cause = owner && ownerSuspensionCause(owner.state);
    if (owner && cause) {
      await this.lifecycle.transition(tx, filed, {
        to: 'suspended',
        cause,
        actor: ACTOR,
        reason: `owner ${owner.state.toLowerCase()}`,
      });
    }
  }
}
