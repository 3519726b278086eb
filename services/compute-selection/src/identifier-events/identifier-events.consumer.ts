import { Injectable, OnModuleInit } from '@nestjs/common';
import { IdentifierChanges, type ReceivedEvent } from '@cinode/contracts';
import { filingAfter } from '@cinode/identifier-client';
import {
  EventConsumerRegistry,
  type ConsumerDefinition,
  type EventHandlerContext,
} from '@cinode/events';
import { LINE_IDENTIFIER } from '../lines/line-input';
import { lineEvent } from '../lines/line-view';
import { LinesRepository } from '../lines/lines.repository';

export const IDENTIFIER_CONSUMER = 'selection-identifiers';

type IdentifierContract = (typeof IdentifierChanges.events)[number];

/**
 * Makes lines follow their identifiers: usable once the national node accepted the filing, out of
 * selection while suspended or once retired. An identifier's events apply newest version first (a
 * late or repeated one changes nothing), and are recorded even before the line row exists (a
 * filing can be accepted before the registration that asked for it has committed here). Each
 * change of a line is a line event, which every replica's line table applies.
 */
@Injectable()
export class IdentifierEventsConsumer implements OnModuleInit {
  constructor(
    private readonly registry: EventConsumerRegistry,
    private readonly lines: LinesRepository,
  ) {}

  definition(): ConsumerDefinition<IdentifierContract> {
    return {
      name: IDENTIFIER_CONSUMER,
      source: IdentifierChanges,
      handle: (event, context) => this.handle(event, context),
    };
  }

  async onModuleInit(): Promise<void> {
    await this.registry.register(this.definition());
  }

  async handle(
    event: ReceivedEvent<IdentifierContract>,
    { tx }: EventHandlerContext,
  ): Promise<void> {
    const filing = filingAfter(event.type);
    // Only line identifiers (object type LN) concern this service.
    const identifier = event.data.identifier.toUpperCase();
    if (!filing || !LINE_IDENTIFIER.test(identifier)) return;
    await this.lines.lockIdentifier(tx, identifier);
    if (!(await this.lines.recordFiling(tx, identifier, filing, event.data.version))) return;
    const line = await this.lines.lock(tx, identifier);
    if (!line || line.filing === filing) return;
    const next = { ...line, filing, version: line.version + 1, updatedAt: new Date() };
    await this.lines.save(tx, next);
    await tx.emit(lineEvent(next));
  }
}
