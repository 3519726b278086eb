import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { RiskChanges, type ReceivedEvent } from '@cinode/contracts';
import {
  EventConsumerRegistry,
  type ConsumerDefinition,
  type EventHandlerContext,
} from '@cinode/events';
import { POOL_IDENTIFIER } from '../pools/pool-input';
import { poolEvent } from '../pools/pool-view';
import { PoolsRepository } from '../pools/pools.repository';

export const RISK_CONSUMER = 'resource-risk';

type RiskContract = (typeof RiskChanges.events)[number];

/**
 * Makes pools carry the security service's restrictions: the highest security level selection may
 * credit a pool with, and whether it is quarantined. A pool's risk events apply newest version
 * first (a late or repeated one changes nothing); each is recorded even before the pool row exists
 * (`pool_risk`), and a registration starts from what is recorded. The pool's version advances, and
 * PoolUpdated tells selection, only when its cap or quarantine changed. A participant's risk is not
 * applied: the security service folds a provider's state into each of its pools' events.
 */
@Injectable()
export class RiskEventsConsumer implements OnModuleInit {
  private readonly logger = new Logger(RiskEventsConsumer.name);

  constructor(
    private readonly registry: EventConsumerRegistry,
    private readonly pools: PoolsRepository,
  ) {}

  definition(): ConsumerDefinition<RiskContract> {
    return {
      name: RISK_CONSUMER,
      source: RiskChanges,
      handle: (event, context) => this.handle(event, context),
    };
  }

  async onModuleInit(): Promise<void> {
    await this.registry.register(this.definition());
  }

  async handle(event: ReceivedEvent<RiskContract>, { tx }: EventHandlerContext): Promise<void> {
    const { data } = event;
    if (data.subjectKind !== 'pool') return;
    const poolId = data.subjectId.toUpperCase();
    if (!POOL_IDENTIFIER.test(poolId)) {
      this.logger.debug(`ignored the risk of ${data.subjectId}: not a pool identifier`);
      return;
    }
    const risk = {
      securityLevelCap: data.securityLevelCap,
      quarantined: data.quarantined,
      version: data.version,
    };
    // Serialised with the pool's registration, which starts from the recorded risk.
    await this.pools.lockIdentifier(tx, poolId);
    if (!(await this.pools.recordRisk(tx, poolId, risk))) return;
    const pool = await this.pools.lock(tx, poolId);
    if (!pool) {
      this.logger.debug(`recorded the risk of pool ${poolId}, not registered here yet`);
      return;
    }
    if (pool.riskVersion >= risk.version) return;
    pool.riskVersion = risk.version;
    const changed =
      pool.securityLevelCap !== risk.securityLevelCap || pool.quarantined !== risk.quarantined;
    if (changed) {
      pool.securityLevelCap = risk.securityLevelCap;
      pool.quarantined = risk.quarantined;
      pool.version += 1;
    }
    await this.pools.saveRisk(tx, pool);
    if (changed) await tx.emit(poolEvent(pool));
  }
}
