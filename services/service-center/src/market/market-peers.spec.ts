import { credentials } from '@grpc/grpc-js';
import type { ServiceTokenSource } from '@cinode/auth';
import {
  FailedPreconditionError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
  type DomainError,
} from '@cinode/common';
import { domainErrorToGrpc } from '@cinode/grpc';
import {
  HoldState,
  TaskState,
  type Hold,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type { ServiceCenterConfig } from '../config';
import { GrpcMarketPeers, holdStandingOf } from './market-peers';

describe(holdStandingOf.name, () => {
  it('counts a hold as ended only once it is released or expired', () => {
    expect(holdStandingOf(HoldState.HOLD_STATE_RELEASED)).toBe('ended');
    expect(holdStandingOf(HoldState.HOLD_STATE_EXPIRED)).toBe('ended');
    expect(holdStandingOf(HoldState.HOLD_STATE_STOPPING)).toBe('stopping');
    expect(holdStandingOf(HoldState.HOLD_STATE_ACTIVE)).toBe('live');
    expect(holdStandingOf(HoldState.HOLD_STATE_CONFIRMED)).toBe('live');
    // A state this service does not know, or none: nothing says its task has stopped.
    expect(holdStandingOf(HoldState.HOLD_STATE_UNSPECIFIED)).toBe('live');
    expect(holdStandingOf(99 as HoldState)).toBe('live');
    expect(holdStandingOf(undefined)).toBe('live');
  });
});

describe(GrpcMarketPeers.name, () => {
  /** The peers with resource aggregation's client answering from `answer` (no network). */
  function peersAnswering(answer: () => Promise<unknown>): GrpcMarketPeers {
    const peers = new GrpcMarketPeers(
      {
        COMPUTE_SELECTION_ADDRESS: '127.0.0.1:1',
        RESOURCE_AGGREGATION_ADDRESS: '127.0.0.1:1',
        MARKET_PEER_TIMEOUT_MS: 1_000,
      } as ServiceCenterConfig,
      credentials.createInsecure(),
      { token: async () => '' } as unknown as ServiceTokenSource,
    );
    peers.onApplicationShutdown();
    Object.assign(peers, {
      resources: { api: { getHold: answer, releaseHold: answer }, close: () => undefined },
    });
    return peers;
  }
  const holdIn = (state: HoldState) => async () => ({ hold: { state } as Hold });
  /** As grpc-js rejects a call the peer refused: an Error carrying the status. */
  const refused = (error: DomainError) => async () => {
    throw Object.assign(new Error(error.message), domainErrorToGrpc(error, 'cinode.resource'));
  };

  it('tells where a hold stands from GetHold; a hold the peer does not know has ended', async () => {
    expect(await peersAnswering(holdIn(HoldState.HOLD_STATE_STOPPING)).holdStanding('h')).toBe(
      'stopping',
    );
    expect(await peersAnswering(holdIn(HoldState.HOLD_STATE_RELEASED)).holdStanding('h')).toBe(
      'ended',
    );
    expect(await peersAnswering(holdIn(HoldState.HOLD_STATE_CONFIRMED)).holdStanding('h')).toBe(
      'live',
    );
    expect(
      await peersAnswering(refused(new NotFoundError('HOLD_NOT_FOUND', 'no hold h'))).holdStanding(
        'h',
      ),
    ).toBe('ended');
    await expect(
      peersAnswering(
        refused(new UnavailableError('DATABASE_UNAVAILABLE', 'the database is down')),
      ).holdStanding('h'),
    ).rejects.toBeInstanceOf(UnavailableError);
  });

  it("says a release ended the hold only when the hold's state says so", async () => {
    const released = (state: HoldState) => async () => ({
      hold: { state } as Hold,
      releasedNow: true,
      allocationState: TaskState.TASK_STATE_CANCELLED,
    });
    expect(
      await peersAnswering(released(HoldState.HOLD_STATE_STOPPING)).releaseHold('h', 'x'),
    ).toEqual({ taskEnded: false, ended: false });
    expect(
      await peersAnswering(released(HoldState.HOLD_STATE_RELEASED)).releaseHold('h', 'x'),
    ).toEqual({ taskEnded: false, ended: true });
    // Only a replica older than STOPPING refuses so, for a confirmed hold it leaves running.
    expect(
      await peersAnswering(
        refused(new FailedPreconditionError('HOLD_NOT_ACTIVE', 'hold h is confirmed')),
      ).releaseHold('h', 'x'),
    ).toEqual({ taskEnded: false, ended: false });
    // Nothing is held under an id resource aggregation does not know.
    expect(
      await peersAnswering(refused(new NotFoundError('HOLD_NOT_FOUND', 'no hold h'))).releaseHold(
        'h',
        'x',
      ),
    ).toEqual({ taskEnded: false, ended: true });
  });

  describe('a peer that sheds the call as overloaded', () => {
    const overloaded = refused(
      new ResourceExhaustedError('OVERLOADED', 'the service is overloaded; retry shortly'),
    );
    /** Answers with each of `answers` in turn, counting the calls. */
    function inTurn(...answers: Array<() => Promise<unknown>>) {
      const calls = { made: 0 };
      const answer = () => answers[Math.min(calls.made++, answers.length - 1)]();
      return { calls, answer };
    }

    it('is asked again after a pause, and its answer then counts', async () => {
      const { calls, answer } = inTurn(
        overloaded,
        overloaded,
        holdIn(HoldState.HOLD_STATE_STOPPING),
      );
      expect(await peersAnswering(answer).holdStanding('h')).toBe('stopping');
      expect(calls.made).toBe(3);
    });

    it('is asked three times at most; then the order is told to retry', async () => {
      const { calls, answer } = inTurn(overloaded);
      await expect(peersAnswering(answer).holdStanding('h')).rejects.toMatchObject({
        reason: 'AGGREGATION_UNAVAILABLE',
      });
      expect(calls.made).toBe(3);
    });

    it('is not asked again for any other refusal, a rate limit among them', async () => {
      for (const error of [
        new ResourceExhaustedError('RATE_LIMITED', 'slow down'),
        new UnavailableError('DATABASE_UNAVAILABLE', 'the database is down'),
        new FailedPreconditionError('INSUFFICIENT_CAPACITY', 'no cards'),
      ]) {
        const { calls, answer } = inTurn(refused(error));
        await expect(peersAnswering(answer).holdStanding('h')).rejects.toBeInstanceOf(Error);
        expect(calls.made).toBe(1);
      }
    });
  });
});
