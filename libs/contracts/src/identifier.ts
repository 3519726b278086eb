import { z } from 'zod';
import { defineEvent, defineEventSource, defineStream, textOf } from './contract';

/** The identifier service's stream: identifier lifecycle events. */
export const IDENTIFIER_STREAM = defineStream({
  name: 'IDENTIFIER',
  subjects: ['cinode.identifier.>'],
  owner: 'identifier',
  description: 'Identifier lifecycle events of the identifier service',
});

export const IDENTIFIER_STATES = [
  'reserved',
  'pending_filing',
  'filed',
  'suspended',
  'retired',
] as const;
export const SUSPENSION_CAUSES = ['operator', 'owner_suspended', 'owner_revoked'] as const;
export const OBJECT_TYPE_CODES = ['RP', 'PT', 'LN', 'AS'] as const;

const identifier = textOf(1, 64);
/** Per-identifier sequence: 1 when issued, one more for each change after. */
const version = z.number().int().positive().safe();

export const identifierIssuedData = z.object({
  identifier,
  version,
  nodeCode: z.string().regex(/^[RI]\d{4}$/),
  objectType: z.enum(OBJECT_TYPE_CODES),
  ownerParticipantId: textOf(1, 128),
});
export type IdentifierIssuedData = z.infer<typeof identifierIssuedData>;

export const identifierFiledData = z.object({
  identifier,
  version,
  filingNumber: textOf(1, 32),
});
export type IdentifierFiledData = z.infer<typeof identifierFiledData>;

export const identifierStateChangedData = z.object({
  identifier,
  version,
  ownerParticipantId: textOf(1, 128),
  state: z.enum(IDENTIFIER_STATES),
  suspensionCause: z.enum(SUSPENSION_CAUSES).nullable(),
  reason: textOf(0, 500),
  actor: textOf(1, 128),
});
export type IdentifierStateChangedData = z.infer<typeof identifierStateChangedData>;

export const IdentifierIssued = defineEvent({
  type: 'cinode.identifier.identifier.issued',
  stream: IDENTIFIER_STREAM,
  schemaVersion: 1,
  schema: identifierIssuedData,
  description: 'An identifier was issued and waits to be filed with the national node.',
});
export const IdentifierFiled = defineEvent({
  type: 'cinode.identifier.identifier.filed',
  stream: IDENTIFIER_STREAM,
  schemaVersion: 1,
  schema: identifierFiledData,
  description: 'The national node accepted the filing of an identifier.',
});
const stateChanged = <const T extends string>(type: T, description: string) =>
  defineEvent({
    type,
    stream: IDENTIFIER_STREAM,
    schemaVersion: 1,
    schema: identifierStateChangedData,
    description,
  });
export const IdentifierSuspended = stateChanged(
  'cinode.identifier.identifier.suspended',
  'An identifier was suspended (by an operator, or because its owner was).',
);
export const IdentifierReinstated = stateChanged(
  'cinode.identifier.identifier.reinstated',
  'A suspended identifier is filed again.',
);
export const IdentifierRetired = stateChanged(
  'cinode.identifier.identifier.retired',
  'An identifier was retired for good.',
);

/** Issued identifiers, for the filing consumer. */
export const IdentifierIssuance = defineEventSource({
  stream: IDENTIFIER_STREAM,
  filterSubject: IdentifierIssued.type,
  events: [IdentifierIssued],
});

/** Every identifier event, for services whose objects follow their identifier's state. */
export const IdentifierChanges = defineEventSource({
  stream: IDENTIFIER_STREAM,
  filterSubject: 'cinode.identifier.identifier.>',
  events: [
    IdentifierIssued,
    IdentifierFiled,
    IdentifierSuspended,
    IdentifierReinstated,
    IdentifierRetired,
  ],
});
