import { nextEventId } from './event-ids';

const UUIDV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe(nextEventId.name, () => {
  it('makes ids that sort in the order they were made, within one millisecond too', () => {
    const ids = Array.from({ length: 2_000 }, () => nextEventId(1_800_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(UUIDV7);
  });

  it('never goes back, even when the clock does', () => {
    const before = nextEventId(1_800_000_000_500);
    const after = nextEventId(1_800_000_000_100);
    expect(after > before).toBe(true);
    expect(after).toMatch(UUIDV7);
  });

  it('stays a UUIDv7 of its millisecond over many ids made in it', () => {
    let id = '';
    for (let i = 0; i < 5_000; i++) id = nextEventId(1_800_000_001_000);
    expect(id).toMatch(UUIDV7);
    expect(id.slice(0, 13).replace('-', '')).toBe(
      (1_800_000_001_000).toString(16).padStart(12, '0'),
    );
  });
});
