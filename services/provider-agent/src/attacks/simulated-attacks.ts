import { seededRandom } from '@cinode/common';
import { toTimestamp } from '@cinode/grpc';
import {
  HandlingStatus,
  Severity,
  type AttackEventInput,
} from '@cinode/proto/gen/cinode/security/v1/security_service';

/** How attacks are made, with what they usually hit. */
const METHODS: ReadonlyArray<{ method: string; asset: string }> = [
  { method: 'DDoS (SYN flood)', asset: 'network gateway' },
  { method: 'DDoS (UDP reflection)', asset: 'network gateway' },
  { method: 'SSH brute force', asset: 'host' },
  { method: 'port scan', asset: 'host' },
  { method: 'SQL injection', asset: 'API gateway' },
  { method: 'credential stuffing', asset: 'management console' },
  { method: 'cryptomining malware', asset: 'GPU server' },
  { method: 'container escape attempt', asset: 'container platform' },
];

/** Severity by weight: most attacks are minor. */
const SEVERITIES: ReadonlyArray<[Severity, number]> = [
  [Severity.SEVERITY_LOW, 45],
  [Severity.SEVERITY_MEDIUM, 35],
  [Severity.SEVERITY_HIGH, 15],
  [Severity.SEVERITY_CRITICAL, 5],
];

/** At most this many simulated attacks are remembered as ongoing, to be reported over later. */
const MAX_ONGOING = 100;

/**
 * Synthetic attack events for `--simulate`: about `perHour` new attacks an hour on the simulated
 * pools (the node's pool ids), from addresses in the documentation ranges to addresses of the
 * pools' private networks. An ongoing attack is later reported again as ended and resolved, as an
 * intrusion-detection system would update it. The same seed gives the same attacks.
 */
export class SimulatedAttacks {
  private readonly random: () => number;
  private carry = 0;
  private count = 0;
  private readonly ongoing: AttackEventInput[] = [];

  constructor(
    private readonly perHour: number,
    private readonly seed: number,
  ) {
    this.random = seededRandom(seed ^ 0x5eed_a77a);
  }

  /** The events of the `elapsedMs` up to `now`, on these pools. */
  next(now: Date, elapsedMs: number, poolIds: readonly string[]): AttackEventInput[] {
    if (this.perHour <= 0 || poolIds.length === 0) return [];
    this.carry += (this.perHour * elapsedMs) / 3_600_000;
    const events: AttackEventInput[] = [];
    while (this.carry >= 1) {
      this.carry -= 1;
      events.push(this.attack(now, poolIds));
      // About as many ongoing attacks end as new ones start.
      if (this.ongoing.length > 0 && this.random() < 0.5) events.push(this.end(this.random()));
    }
    return events;
  }

  private attack(now: Date, poolIds: readonly string[]): AttackEventInput {
    this.count += 1;
    const poolIndex = Math.floor(this.random() * poolIds.length);
    const { method, asset } = METHODS[Math.floor(this.random() * METHODS.length)];
    const severity = this.severity();
    const ongoing = this.random() < 0.4;
    const event: AttackEventInput = {
      eventId: `sim-${this.seed}-${now.getTime().toString(36)}-${this.count}`,
      // Detected a little after it began.
      attackTime: toTimestamp(new Date(now.getTime() - Math.floor(this.random() * 120_000))),
      attackerIp: this.attackerIp(),
      targetIp: `10.${(poolIndex >> 8) & 0xff}.${poolIndex & 0xff}.${1 + Math.floor(this.random() * 254)}`,
      attackMethod: method,
      attackedAssetType: asset,
      ongoing,
      description: `simulated ${method} on a ${asset} of pool ${poolIds[poolIndex]}`,
      handlingStatus: ongoing
        ? HandlingStatus.HANDLING_STATUS_DETECTED
        : this.random() < 0.5
          ? HandlingStatus.HANDLING_STATUS_MITIGATED
          : HandlingStatus.HANDLING_STATUS_RESOLVED,
      severity,
      poolId: poolIds[poolIndex],
    };
    if (ongoing) {
      this.ongoing.push(event);
      if (this.ongoing.length > MAX_ONGOING) this.ongoing.shift();
    }
    return event;
  }

  /** One of the ongoing attacks, reported again as over. */
  private end(pick: number): AttackEventInput {
    const [event] = this.ongoing.splice(Math.floor(pick * this.ongoing.length), 1);
    return {
      ...event,
      ongoing: false,
      handlingStatus: HandlingStatus.HANDLING_STATUS_RESOLVED,
      description: `${event.description}; blocked and resolved`,
    };
  }

  private severity(): Severity {
    let roll = this.random() * 100;
    for (const [severity, weight] of SEVERITIES) {
      roll -= weight;
      if (roll < 0) return severity;
    }
    return Severity.SEVERITY_LOW;
  }

  /** An address of TEST-NET-2 or TEST-NET-3 (RFC 5737), never a real host's. */
  private attackerIp(): string {
    const net = this.random() < 0.5 ? '198.51.100' : '203.0.113';
    return `${net}.${1 + Math.floor(this.random() * 254)}`;
  }
}
