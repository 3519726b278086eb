import { DomainError, ValidationError } from '@cinode/common';
import type { MockConfig } from '../config';
import { FaultInjectionService } from './fault-injection.service';

function service(overrides: Partial<MockConfig> = {}): FaultInjectionService {
  return new FaultInjectionService({
    FAULT_UNAVAILABLE_RATIO: 0,
    FAULT_LATENCY_MS: 0,
    FAULT_OUTAGE: false,
    ...overrides,
  } as MockConfig);
}

async function outcome(faults: FaultInjectionService): Promise<string> {
  try {
    await faults.beforeCall();
    return 'ok';
  } catch (error) {
    return error instanceof DomainError ? error.reason : 'unexpected';
  }
}

describe(FaultInjectionService.name, () => {
  it('starts from the configured faults', async () => {
    expect(await outcome(service({ FAULT_OUTAGE: true }))).toBe('INJECTED_OUTAGE');
    expect(await outcome(service())).toBe('ok');
  });

  it('fails a call when the random draw falls under the ratio', async () => {
    const faults = service({ FAULT_UNAVAILABLE_RATIO: 0.3 });
    faults.random = () => 0.29;
    expect(await outcome(faults)).toBe('INJECTED_UNAVAILABLE');
    faults.random = () => 0.3;
    expect(await outcome(faults)).toBe('ok');
  });

  it('rejects out-of-range settings and keeps the old ones', () => {
    const faults = service();
    expect(() => faults.set({ unavailableRatio: -0.1, addedLatencyMs: 0, outage: false })).toThrow(
      ValidationError,
    );
    expect(faults.current()).toEqual({ unavailableRatio: 0, addedLatencyMs: 0, outage: false });
  });
});
