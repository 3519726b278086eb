import { Injectable } from '@nestjs/common';
import {
  QuarantineChanged,
  RiskChanged,
  eventOf,
  type QuarantineData,
  type RiskChangedData,
} from '@cinode/contracts';
import { uuidv7 } from '@cinode/common';
import type { Tx } from '@cinode/database';
import { InjectConfig } from '@cinode/kit';
import type { SecurityConfig } from '../config';
import type { QuarantineEntity } from './quarantine.entity';
import { QuarantineBucket } from './quarantine-bucket';
import { RiskRepository, subjectKey, type SubjectRef } from './risk.repository';
import { levelOf, scoreRisk, securityLevelCapOf, type RiskInputs } from './risk-score';
import type { RiskEntity, RiskFactorRecord } from './risk.entity';

/** A score without its provider's share: what the subject's own findings and attacks weigh. */
function ownScoreOf(factors: readonly RiskFactorRecord[]): number {
  return Math.min(
    100,
    factors.filter((f) => f.factor !== 'provider').reduce((n, f) => n + f.points, 0),
  );
}

/** The actor of what the risk engine does by itself. */
export const RISK_ENGINE_ACTOR = 'security';

/**
 * Assesses risk inside the transaction of the change that moved it (a finding, an attack event, a
 * certification, a quarantine decision), so the new risk, its event and the change commit
 * together. Each subject is locked for the rest of the transaction; a participant's pools are
 * assessed after it (their score includes half of its own, their quarantine its quarantine).
 *
 * Quarantine: a subject whose own level (for a pool: without its provider's share) becomes
 * critical from a lower one is quarantined at once (ACTIVE). An ACTIVE quarantine lapses when that
 * level falls below critical; a CONFIRMED one stays
 * until an operator lifts it. After a lift, a new quarantine begins only on the next rise to
 * critical.
 */
@Injectable()
export class RiskService {
  constructor(
    private readonly risks: RiskRepository,
    private readonly bucket: QuarantineBucket,
    @InjectConfig() private readonly config: SecurityConfig,
  ) {}

  /** Assesses the subjects (participants first), and the pools of every participant among them. */
  async reassess(tx: Tx, subjects: readonly SubjectRef[], now = new Date()): Promise<void> {
    const seen = new Set<string>();
    const unique = subjects.filter((s) => {
      const key = subjectKey(s);
      if (seen.has(key) || s.id === '') return false;
      seen.add(key);
      return true;
    });
    // Participants before pools, each in key order: a fixed lock order across transactions.
    unique.sort((a, b) =>
      a.kind === b.kind ? (a.id < b.id ? -1 : 1) : a.kind === 'participant' ? -1 : 1,
    );
    const pools = new Set(unique.filter((s) => s.kind === 'pool').map((s) => s.id));
    // Every participant lock before any pool lock: a pool's provider too, so a pool is not
    // assessed against a provider risk another transaction is changing.
    const participants = new Set(unique.filter((s) => s.kind === 'participant').map((s) => s.id));
    for (const pool of pools) {
      const provider = await this.risks.providerOf(tx, pool);
      if (provider) participants.add(provider);
    }
    for (const id of [...participants].sort())
      await this.risks.lockSubject(tx, { kind: 'participant', id });
    for (const subject of unique) {
      if (subject.kind !== 'participant') continue;
      const changed = await this.assess(tx, subject, now);
      if (changed) for (const pool of await this.risks.poolsOf(tx, subject.id)) pools.add(pool);
    }
    for (const pool of [...pools].sort()) await this.assess(tx, { kind: 'pool', id: pool }, now);
  }

  /**
   * Assesses one subject; true when its score, level or quarantine changed (its pools then need
   * assessing too).
   */
  private async assess(tx: Tx, subject: SubjectRef, now: Date): Promise<boolean> {
    await this.risks.lockSubject(tx, subject);
    const inputs: RiskInputs = {
      findings: await this.risks.findingCounts(tx, subject),
      attacks: await this.risks.attackCounts(tx, subject, this.config.RISK_ATTACK_WINDOW_MS),
    };
    let provider: RiskEntity | undefined;
    let providerId = '';
    if (subject.kind === 'participant') {
      inputs.certificationState = await this.risks.certificationState(tx, subject.id);
    } else {
      providerId = (await this.risks.providerOf(tx, subject.id)) ?? '';
      provider = providerId
        ? await this.risks.find(tx, { kind: 'participant', id: providerId })
        : undefined;
      inputs.providerScore = provider?.score ?? 0;
    }
    const { score, level, factors } = scoreRisk(inputs);
    const previous = await this.risks.find(tx, subject);
    const previousLevel = previous?.level ?? 'low';

    // What quarantines a subject is its own risk: a pool's share of its provider's score weighs on
    // its level (and cap), but the provider's quarantine reaches the pool through `quarantined`.
    const ownLevel = levelOf(ownScoreOf(factors));
    const previousOwnLevel = levelOf(previous ? ownScoreOf(previous.factors) : 0);
    let quarantine = await this.risks.openQuarantine(tx, subject);
    if (ownLevel === 'critical' && previousOwnLevel !== 'critical' && !quarantine) {
      quarantine = {
        quarantineId: uuidv7(),
        subjectKind: subject.kind,
        subjectId: subject.id,
        state: 'active',
        reason:
          `risk score ${score} (${factors.map((f) => `${f.factor} ${f.points}`).join(', ')})`.slice(
            0,
            500,
          ),
        actor: RISK_ENGINE_ACTOR,
        startedAt: now,
        updatedAt: now,
        version: 1,
      };
      await this.saveQuarantine(tx, quarantine);
    } else if (quarantine && quarantine.state === 'active' && ownLevel !== 'critical') {
      quarantine = {
        ...quarantine,
        state: 'lifted',
        reason: `lapsed: risk fell to ${ownLevel} (score ${score})`,
        actor: RISK_ENGINE_ACTOR,
        updatedAt: now,
        version: quarantine.version + 1,
      };
      await this.saveQuarantine(tx, quarantine);
      quarantine = undefined;
    }
    const quarantined = quarantine !== undefined || (provider?.quarantined ?? false);
    const cap = subject.kind === 'pool' ? securityLevelCapOf(level) : null;

    if (
      previous &&
      previous.score === score &&
      previous.level === level &&
      previous.quarantined === quarantined &&
      previous.securityLevelCap === cap &&
      JSON.stringify(previous.factors) === JSON.stringify(factors)
    )
      return false;
    if (!previous && score === 0 && !quarantined) return false;
    const next: RiskEntity = {
      subjectKind: subject.kind,
      subjectId: subject.id,
      score,
      level,
      factors,
      securityLevelCap: cap,
      quarantined,
      version: (previous?.version ?? 0) + 1,
      assessedAt: now,
    };
    await this.risks.save(tx, next);
    const data: RiskChangedData = {
      subjectKind: subject.kind,
      subjectId: subject.id,
      version: next.version,
      score,
      level,
      previousLevel,
      securityLevelCap: cap,
      quarantined,
      providerParticipantId: providerId,
      assessedAt: now.toISOString(),
    };
    await tx.emit(eventOf(RiskChanged, data));
    return (
      previous?.score !== score ||
      previous?.quarantined !== quarantined ||
      previous?.level !== level
    );
  }

  /** Saves a quarantine and emits its event; a participant's reaches the bucket after commit. */
  async saveQuarantine(tx: Tx, quarantine: QuarantineEntity): Promise<void> {
    await this.risks.saveQuarantine(tx, quarantine);
    const data: QuarantineData = {
      quarantineId: quarantine.quarantineId,
      version: quarantine.version,
      subjectKind: quarantine.subjectKind,
      subjectId: quarantine.subjectId,
      state: quarantine.state,
      reason: quarantine.reason,
      actor: quarantine.actor,
      changedAt: quarantine.updatedAt.toISOString(),
    };
    await tx.emit(eventOf(QuarantineChanged, data));
    if (quarantine.subjectKind === 'participant') tx.afterCommit(() => this.bucket.syncSoon());
  }
}
