import { z } from 'zod';
import { defineEvent, defineEventSource, defineStream, textOf } from './contract';

/** The service center's stream: participants, certification, qualifications and API keys. */
export const PARTICIPANT_STREAM = defineStream({
  name: 'PARTICIPANT',
  subjects: ['cinode.participant.>'],
  owner: 'service-center',
  description: 'Participants, certification, qualifications and API keys (service center)',
});

export const PARTICIPANT_KINDS = [
  'COMPUTE_PROVIDER',
  'RESELLER',
  'APPLICATION_PROVIDER',
  'LINE_PROVIDER',
  'USER',
  'OPERATOR',
] as const;
export type ParticipantKindName = (typeof PARTICIPANT_KINDS)[number];

export const PARTICIPANT_STATES = [
  'SUBMITTED',
  'UNDER_REVIEW',
  'CERTIFIED',
  'REJECTED',
  'SUSPENDED',
  'REVOKED',
] as const;
export type ParticipantStateName = (typeof PARTICIPANT_STATES)[number];

/** Per-aggregate sequence: 1 for the first event of an aggregate, one more for each change after. */
const version = z.number().int().positive().safe();
const actor = textOf(1, 128);
const reason = textOf(0, 500);

/**
 * Data of every participant lifecycle event. It carries what consumers need to act without
 * calling back: the legal name and (for organisations) the unified social credit code, as the
 * participant's certified record holds them. Consumers order a participant's events by `version`,
 * never by time (replicas' clocks differ).
 */
export const participantEventData = z.object({
  participantId: z.string().uuid(),
  version,
  kind: z.enum(PARTICIPANT_KINDS),
  state: z.enum(PARTICIPANT_STATES),
  /** null for a first registration. */
  previousState: z.enum(PARTICIPANT_STATES).nullable(),
  /** The organisation's legal name, or the individual's name. */
  legalName: textOf(1, 200),
  /** GB 32100 unified social credit code; null for individuals. */
  creditCode: z
    .string()
    .regex(/^[0-9A-HJ-NPQRTUWXY]{18}$/)
    .nullable(),
  reason,
  actor,
});
export type ParticipantEventData = z.infer<typeof participantEventData>;

const lifecycle = <const T extends string>(type: T, description: string) =>
  defineEvent({
    type,
    stream: PARTICIPANT_STREAM,
    schemaVersion: 1,
    schema: participantEventData,
    description,
  });

export const ParticipantRegistered = lifecycle(
  'cinode.participant.participant.registered',
  'A participant registered, or a rejected participant resubmitted (state SUBMITTED).',
);
export const ParticipantUnderReview = lifecycle(
  'cinode.participant.participant.review-started',
  'An operator started reviewing a participant (state UNDER_REVIEW).',
);
export const ParticipantCertified = lifecycle(
  'cinode.participant.participant.certified',
  'A participant was certified: it may now act on the market.',
);
export const ParticipantRejected = lifecycle(
  'cinode.participant.participant.rejected',
  'A participant under review was rejected; it may resubmit.',
);
export const ParticipantSuspended = lifecycle(
  'cinode.participant.participant.suspended',
  'A certified participant was suspended; its identifiers follow it.',
);
export const ParticipantReinstated = lifecycle(
  'cinode.participant.participant.reinstated',
  'A suspended participant was reinstated (state CERTIFIED again).',
);
export const ParticipantRevoked = lifecycle(
  'cinode.participant.participant.revoked',
  'A participant was revoked for good; its keys are revoked with it.',
);
/** A participant's details changed (name, credit code, contacts) without a state change. */
export const ParticipantUpdated = lifecycle(
  'cinode.participant.participant.updated',
  "A participant's registered details changed; the state is unchanged.",
);

export const PARTICIPANT_LIFECYCLE_EVENTS = [
  ParticipantRegistered,
  ParticipantUnderReview,
  ParticipantCertified,
  ParticipantRejected,
  ParticipantSuspended,
  ParticipantReinstated,
  ParticipantRevoked,
  ParticipantUpdated,
] as const;

/** Every participant lifecycle event, for consumers that keep a projection of participants. */
export const ParticipantLifecycle = defineEventSource({
  stream: PARTICIPANT_STREAM,
  filterSubject: 'cinode.participant.participant.>',
  events: PARTICIPANT_LIFECYCLE_EVENTS,
});

export const qualificationEventData = z.object({
  qualificationId: z.string().uuid(),
  participantId: z.string().uuid(),
  version,
  validFrom: z.string().datetime(),
  validUntil: z.string().datetime(),
  reason,
  actor,
});
export type QualificationEventData = z.infer<typeof qualificationEventData>;

const qualification = <const T extends string>(type: T, description: string) =>
  defineEvent({
    type,
    stream: PARTICIPANT_STREAM,
    schemaVersion: 1,
    schema: qualificationEventData,
    description,
  });

export const QualificationGranted = qualification(
  'cinode.participant.qualification.granted',
  'A reseller was granted a resale qualification for a period.',
);
export const QualificationExpired = qualification(
  'cinode.participant.qualification.expired',
  "A resale qualification's period ended.",
);
export const QualificationRevoked = qualification(
  'cinode.participant.qualification.revoked',
  'A resale qualification was revoked before its end.',
);

export const apiKeyEventData = z.object({
  apiKeyId: z.string().uuid(),
  participantId: z.string().uuid(),
  version,
  /** The key's visible prefix; never the secret. */
  prefix: z.string().regex(/^[0-9A-Za-z]{8}$/),
  reason,
  actor,
});
export type ApiKeyEventData = z.infer<typeof apiKeyEventData>;

const apiKey = <const T extends string>(type: T, description: string) =>
  defineEvent({
    type,
    stream: PARTICIPANT_STREAM,
    schemaVersion: 1,
    schema: apiKeyEventData,
    description,
  });

export const ApiKeyIssued = apiKey(
  'cinode.participant.key.issued',
  'An API key was issued (at certification or by rotation).',
);
export const ApiKeyRevoked = apiKey(
  'cinode.participant.key.revoked',
  'An API key was revoked (by its holder, an operator, rotation or revocation of the participant).',
);
