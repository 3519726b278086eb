import { z } from 'zod';
import {
  MalformedEventError,
  defineEvent,
  defineEventSource,
  defineStream,
  eventOf,
  parseEvent,
  subjectMatches,
} from './contract';
import {
  PARTICIPANT_LIFECYCLE_EVENTS,
  ParticipantCertified,
  ParticipantLifecycle,
  type ParticipantEventData,
} from './participant';

const data: ParticipantEventData = {
  participantId: '0b1c6f1e-2f0a-4f7e-9d41-7a3c2b1d0e9f',
  version: 3,
  kind: 'COMPUTE_PROVIDER',
  state: 'CERTIFIED',
  previousState: 'UNDER_REVIEW',
  legalName: 'Example Cloud Ltd.',
  creditCode: '91310115MA1K3YJ51X',
  reason: 'documents complete',
  actor: 'op-1',
};

describe('event contracts', () => {
  it('matches NATS subject filters with * and >', () => {
    expect(subjectMatches('cinode.participant.>', 'cinode.participant.participant.certified')).toBe(
      true,
    );
    expect(subjectMatches('cinode.participant.>', 'cinode.participant')).toBe(false);
    expect(subjectMatches('cinode.*.participant.certified', 'cinode.x.participant.certified')).toBe(
      true,
    );
    expect(subjectMatches('cinode.a.b.c', 'cinode.a.b.c.d')).toBe(false);
    expect(subjectMatches('cinode.a.b.c', 'cinode.a.b')).toBe(false);
  });

  it('refuses an event type outside its stream or a malformed type', () => {
    const stream = defineStream({
      name: 'S',
      subjects: ['cinode.s.>'],
      owner: 'x',
      description: '',
    });
    const base = { stream, schemaVersion: 1, schema: z.object({}), description: '' };
    expect(() => defineEvent({ ...base, type: 'cinode.t.a.created' })).toThrow(/not a subject/);
    expect(() => defineEvent({ ...base, type: 'cinode.s.a' })).toThrow(/past-tense-verb/);
    expect(() =>
      defineStream({ name: 'a.b', subjects: ['x'], owner: 'x', description: '' }),
    ).toThrow(/no dots/);
  });

  it('refuses a source listing an event its filter does not match', () => {
    expect(() =>
      defineEventSource({
        stream: ParticipantLifecycle.stream,
        filterSubject: 'cinode.participant.key.>',
        events: [ParticipantCertified],
      }),
    ).toThrow(/does not match the filter/);
  });

  it('checks data at the producer', () => {
    expect(eventOf(ParticipantCertified, data)).toEqual({
      type: 'cinode.participant.participant.certified',
      schemaVersion: 1,
      data,
    });
    expect(() => eventOf(ParticipantCertified, { ...data, version: 0 })).toThrow(/version/);
  });

  it('parses a received event into its typed contract', () => {
    const received = parseEvent(ParticipantLifecycle, {
      type: ParticipantCertified.type,
      schemaVersion: 1,
      data: { ...data, extra: 'a newer producer may add fields' },
    });
    expect(received?.type).toBe(ParticipantCertified.type);
    expect(received?.data).toEqual(data);
  });

  it('ignores types the source does not list and rejects malformed ones', () => {
    expect(
      parseEvent(ParticipantLifecycle, {
        type: 'cinode.participant.participant.archived',
        schemaVersion: 1,
        data: {},
      }),
    ).toBeUndefined();
    expect(() =>
      parseEvent(ParticipantLifecycle, { type: ParticipantCertified.type, schemaVersion: 2, data }),
    ).toThrow(MalformedEventError);
    expect(() =>
      parseEvent(ParticipantLifecycle, {
        type: ParticipantCertified.type,
        schemaVersion: 1,
        data: { ...data, creditCode: 'not a code' },
      }),
    ).toThrow(/creditCode/);
  });

  it('keeps every participant lifecycle event on the lifecycle source', () => {
    expect(ParticipantLifecycle.events).toEqual(PARTICIPANT_LIFECYCLE_EVENTS);
    expect(new Set(PARTICIPANT_LIFECYCLE_EVENTS.map((e) => e.type)).size).toBe(
      PARTICIPANT_LIFECYCLE_EVENTS.length,
    );
  });
});
