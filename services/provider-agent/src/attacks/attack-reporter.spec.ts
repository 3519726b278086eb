import { status as GrpcStatus } from '@grpc/grpc-js';
import { DomainError, ValidationError } from '@cinode/common';
import { domainErrorToGrpc } from '@cinode/grpc';
import type { AttackEventInput } from '@cinode/proto/gen/cinode/security/v1/security_service';
import pino from 'pino';
import { AttackReporter, MAX_ATTACK_BATCH } from './attack-reporter';

const logger = pino({ level: 'silent' });

function event(n: number): AttackEventInput {
  return {
    eventId: `e-${n}`,
    attackTime: undefined,
    attackerIp: '203.0.113.9',
    targetIp: '10.0.0.1',
    attackMethod: 'port scan',
    attackedAssetType: 'host',
    ongoing: false,
    description: '',
    handlingStatus: 1,
    severity: 1,
    poolId: '',
  };
}

/** What the grpc-js client rejects with: an Error carrying the status. */
function grpcError(payload: { code: GrpcStatus; details: string; metadata?: unknown }): Error {
  return Object.assign(new Error(payload.details), payload);
}

function unavailable(): Error {
  return grpcError({ code: GrpcStatus.UNAVAILABLE, details: 'connection refused' });
}

/** A node whose answers the test scripts; every call's event ids are kept. */
function node(...answers: Array<(events: AttackEventInput[]) => Error | undefined>) {
  const calls: string[][] = [];
  const submit = (events: AttackEventInput[]): Promise<unknown> => {
    calls.push(events.map((e) => e.eventId));
    const answer = answers.shift();
    const error = answer?.(events);
    return error ? Promise.reject(error) : Promise.resolve({});
  };
  return { calls, submit };
}

function reporter(
  submit: (events: AttackEventInput[]) => Promise<unknown>,
  stopping = () => false,
) {
  const waits: number[] = [];
  const subject = new AttackReporter(submit, logger, {
    retryInitialMs: 100,
    retryMaxMs: 400,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
    stopping,
  });
  return { subject, waits };
}

describe(AttackReporter.name, () => {
  it('sends in batches of at most 500, in order', async () => {
    const { calls, submit } = node();
    const { subject } = reporter(submit);
    subject.enqueue(Array.from({ length: 1_201 }, (_, n) => event(n)));
    await subject.flush();
    expect(calls.map((c) => c.length)).toEqual([MAX_ATTACK_BATCH, MAX_ATTACK_BATCH, 201]);
    expect(calls.flat()).toEqual(Array.from({ length: 1_201 }, (_, n) => `e-${n}`));
    expect([subject.pending, subject.totals.sent]).toEqual([0, 1_201]);
  });

  it('retries a batch the node could not take, with a growing bounded delay, losing nothing', async () => {
    const { calls, submit } = node(unavailable, unavailable, unavailable, unavailable);
    const { subject, waits } = reporter(submit);
    subject.enqueue([event(1), event(2)]);
    await subject.flush();
    expect(waits).toEqual([100, 200, 400, 400]);
    expect(calls).toHaveLength(5);
    expect(calls[4]).toEqual(['e-1', 'e-2']);
    expect(subject.totals).toEqual({ sent: 2, skipped: 0 });
  });

  it('keeps the queue when the agent stops during an outage', async () => {
    let stop = false;
    const { submit } = node(() => {
      stop = true;
      return unavailable();
    });
    const { subject } = reporter(submit, () => stop);
    subject.enqueue([event(1)]);
    await subject.flush();
    expect(subject.pending).toBe(1);
  });

  it('skips just the events an INVALID_ARGUMENT names, and sends the rest again', async () => {
    const invalid = grpcError(
      domainErrorToGrpc(
        new ValidationError([
          { field: 'events[1].attacker_ip', description: 'is not an IP address' },
          { field: 'events[3].attack_time', description: 'is in the future' },
        ]),
        'security.cinode',
      ),
    );
    const { calls, submit } = node(() => invalid);
    const { subject } = reporter(submit);
    subject.enqueue([0, 1, 2, 3, 4].map(event));
    await subject.flush();
    expect(calls).toEqual([
      ['e-0', 'e-1', 'e-2', 'e-3', 'e-4'],
      ['e-0', 'e-2', 'e-4'],
    ]);
    expect(subject.totals).toEqual({ sent: 3, skipped: 2 });
  });

  it('narrows a refusal that names no event down to the event refused', async () => {
    const conflict = grpcError(
      domainErrorToGrpc(
        new DomainError(
          'FAILED_PRECONDITION',
          'EVENT_ID_CONFLICT',
          'e-2 was sent with another time',
        ),
        'security.cinode',
      ),
    );
    const { calls, submit } = node();
    const { subject } = reporter((events) =>
      events.some((e) => e.eventId === 'e-2') ? Promise.reject(conflict) : submit(events),
    );
    subject.enqueue([0, 1, 2, 3].map(event));
    await subject.flush();
    expect(calls.flat().sort()).toEqual(['e-0', 'e-1', 'e-3']);
    expect(subject.totals).toEqual({ sent: 3, skipped: 1 });
  });
});
