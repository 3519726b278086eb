import type { Caller } from '@cinode/auth';
import { AccessControls } from './access-controls';
import {
  QuarantineList,
  type QuarantineSource,
  type QuarantineWatchHandlers,
} from './quarantine-list';

/** One watch the fake source handed out: the test drives it. */
interface FakeWatch {
  handlers: QuarantineWatchHandlers;
  signal: AbortSignal;
  /** Ends the watch as a broken connection would. */
  fail(error?: Error): void;
}

/** A quarantine bucket the test writes to by hand; each watch is one a test can break. */
class FakeSource implements QuarantineSource {
  readonly watches: FakeWatch[] = [];
  private waiting: Array<(watch: FakeWatch) => void> = [];

  watch(handlers: QuarantineWatchHandlers, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const watch: FakeWatch = {
        handlers,
        signal,
        fail: (error = new Error('connection closed')) => reject(error),
      };
      signal.addEventListener('abort', () => resolve(), { once: true });
      this.watches.push(watch);
      for (const wake of this.waiting.splice(0)) wake(watch);
    });
  }

  /** The watch number `n` (0-based), once the list has started it. */
  async nth(n: number): Promise<FakeWatch> {
    while (this.watches.length <= n)
      await new Promise<FakeWatch>((resolve) => this.waiting.push(resolve));
    return this.watches[n];
  }
}

const OPTIONS = { retryInitialMs: 1, retryMaxMs: 5, startupWaitMs: 50 };

function caller(roles: Caller['roles'], subject: string, tenant = subject): Caller {
  return { subject, roles, tenant } as Caller;
}

describe(QuarantineList.name, () => {
  let source: FakeSource;
  let list: QuarantineList;

  beforeEach(() => {
    source = new FakeSource();
    list = new QuarantineList(source, OPTIONS);
  });

  afterEach(async () => {
    await list.beforeApplicationShutdown();
  });

  it('lists the keys the bucket holds at start, then follows puts and deletes', async () => {
    const starting = list.onApplicationBootstrap();
    const watch = await source.nth(0);
    watch.handlers.put('p-1');
    watch.handlers.put('p-2');
    watch.handlers.synced();
    await starting;
    expect(list.synced).toBe(true);
    expect([list.has('p-1'), list.has('p-2'), list.has('p-3')]).toEqual([true, true, false]);

    watch.handlers.remove('p-1');
    watch.handlers.put('p-3');
    expect([list.has('p-1'), list.has('p-3'), list.size]).toEqual([false, true, 2]);
  });

  it('starts serving when the bucket cannot be read, and fills the list once it can', async () => {
    await list.onApplicationBootstrap();
    expect(list.synced).toBe(false);
    expect(list.size).toBe(0);
    const watch = await source.nth(0);
    watch.handlers.put('p-1');
    watch.handlers.synced();
    expect(list.has('p-1')).toBe(true);
  });

  it('keeps the last known list through a broken watch, and takes the new one once synced', async () => {
    const starting = list.onApplicationBootstrap();
    const first = await source.nth(0);
    first.handlers.put('p-1');
    first.handlers.put('p-2');
    first.handlers.synced();
    await starting;

    first.fail();
    const second = await source.nth(1);
    // Meanwhile p-2 was lifted and p-3 quarantined: until the new watch is synced, nobody listed
    // before is let through.
    second.handlers.put('p-1');
    second.handlers.put('p-3');
    expect([list.has('p-1'), list.has('p-2'), list.has('p-3')]).toEqual([true, true, true]);
    second.handlers.synced();
    expect([list.has('p-1'), list.has('p-2'), list.has('p-3')]).toEqual([true, false, true]);
  });

  it('watches again after failures with a bounded delay, and stops at shutdown', async () => {
    await list.onApplicationBootstrap();
    for (let n = 0; n < 5; n += 1) (await source.nth(n)).fail(new Error('no responders'));
    const sixth = await source.nth(5);
    await list.beforeApplicationShutdown();
    expect(sixth.signal.aborted).toBe(true);
    expect(source.watches).toHaveLength(6);
  });
});

describe(`${AccessControls.name}: quarantined participants`, () => {
  const OPEN = {
    denyCidrs: [],
    allowCidrs: [],
    participantRatePerSecond: 1,
    participantBurst: 1,
  };

  async function controlsQuarantining(...ids: string[]): Promise<{
    controls: AccessControls;
    watch: FakeWatch;
    list: QuarantineList;
  }> {
    const source = new FakeSource();
    const list = new QuarantineList(source, OPTIONS);
    const starting = list.onApplicationBootstrap();
    const watch = await source.nth(0);
    for (const id of ids) watch.handlers.put(id);
    watch.handlers.synced();
    await starting;
    return { controls: new AccessControls(OPEN, list), watch, list };
  }

  it('refuses a participant quarantined by subject or by tenant, PARTICIPANT_QUARANTINED', async () => {
    const { controls, list } = await controlsQuarantining('prov-1', 'tenant-9');
    for (const refused of [
      caller(['provider'], 'prov-1'),
      caller(['user'], 'u-1', 'tenant-9'),
      caller(['reseller', 'line_provider'], 'prov-1', 'other'),
      caller(['application_provider'], 'app-1', 'tenant-9'),
    ])
      expect(controls.callerRefusal(refused)).toMatchObject({
        kind: 'PERMISSION_DENIED',
        reason: 'PARTICIPANT_QUARANTINED',
        message: expect.stringContaining('contact the node operator'),
      });
    expect(controls.callerRefusal(caller(['provider'], 'prov-2'))).toBeUndefined();
    await list.beforeApplicationShutdown();
  });

  it('refuses participants UNAVAILABLE until the list is read once, unless told to serve meanwhile', async () => {
    const source = new FakeSource();
    const list = new QuarantineList(source, OPTIONS);
    // NATS away at start: the wait runs out unsynced, and the service serves.
    await list.onApplicationBootstrap();
    const closed = new AccessControls(OPEN, list);
    const open = new AccessControls({ ...OPEN, serveWhileQuarantineUnread: true }, list);
    const provider = caller(['provider'], 'prov-1');
    expect(closed.callerRefusal(provider)).toMatchObject({
      kind: 'UNAVAILABLE',
      reason: 'QUARANTINE_LIST_UNREAD',
      retryAfterSeconds: 2,
    });
    expect(open.callerRefusal(provider)).toBeUndefined();
    // The node's own services, operators and regulators are served either way.
    for (const exempt of [
      caller(['operator'], 'op-1'),
      caller(['regulator'], 'reg-1'),
      caller(['service'], 'reporting'),
    ])
      expect(closed.callerRefusal(exempt)).toBeUndefined();
    // Read at last: quarantined participants are refused for it, the others served.
    const watch = await source.nth(0);
    watch.handlers.put('prov-1');
    watch.handlers.synced();
    expect(closed.callerRefusal(provider)).toMatchObject({ reason: 'PARTICIPANT_QUARANTINED' });
    expect(closed.callerRefusal(caller(['provider'], 'prov-2'))).toBeUndefined();
    // A broken watch later keeps the last known list in force: no refusal for everyone then.
    watch.fail();
    expect(closed.callerRefusal(caller(['user'], 'u-3'))).toBeUndefined();
    await list.beforeApplicationShutdown();
  });

  it('never refuses operators, regulators, the national node or the node services', async () => {
    const { controls, list } = await controlsQuarantining('op-1', 'reg-1', 'national', 'reporting');
    for (const exempt of [
      caller(['operator'], 'op-1'),
      caller(['regulator'], 'reg-1'),
      caller(['national_node'], 'national'),
      caller(['service'], 'reporting'),
      caller(['operator', 'provider'], 'op-1'),
    ])
      expect(controls.callerRefusal(exempt)).toBeUndefined();
    await list.beforeApplicationShutdown();
  });

  it('serves a participant again once its key is deleted, and a quarantined call spends no rate', async () => {
    const { controls, watch, list } = await controlsQuarantining('prov-1');
    const provider = caller(['provider'], 'prov-1');
    for (let n = 0; n < 3; n += 1)
      expect(controls.callerRefusal(provider, 1_000)).toMatchObject({
        reason: 'PARTICIPANT_QUARANTINED',
      });
    watch.handlers.remove('prov-1');
    // The bucket of one call is untouched by the refused ones.
    expect(controls.callerRefusal(provider, 1_000)).toBeUndefined();
    expect(controls.callerRefusal(provider, 1_000)).toMatchObject({ reason: 'RATE_LIMITED' });
    await list.beforeApplicationShutdown();
  });
});
