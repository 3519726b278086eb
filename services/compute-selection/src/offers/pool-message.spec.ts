import { poolData } from '@cinode/contracts';
import { PoolState, type Pool } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { poolDataOfMessage } from './pool-message';

function message(extra: Partial<Pool>): Pool {
  return {
    poolId: 'CN.R0001.RP.000000011',
    providerParticipantId: 'prov-1',
    spec: {
      name: 'Lingang GPU',
      poolClass: 1,
      site: 'sh-1',
      regionCode: '310115',
      accelerators: [],
      securityLevel: 3,
      datacenterTier: 4,
      pue: 1.3,
      renewableRatio: 0.2,
      gflopsPerWatt: 50,
      price: undefined,
    },
    state: PoolState.POOL_STATE_ONLINE,
    inventory: undefined,
    held: undefined,
    inventorySequence: 0,
    lastReportedAt: undefined,
    registeredAt: undefined,
    stateChangedAt: undefined,
    version: 2,
    securityLevelCap: 0,
    quarantined: false,
    ...extra,
  };
}

describe(poolDataOfMessage.name, () => {
  it("carries the security service's cap (0: none) and quarantine, as pool events do", () => {
    expect(poolDataOfMessage(message({}))).toMatchObject({
      securityLevel: 3,
      securityLevelCap: null,
      quarantined: false,
    });
    const restricted = poolDataOfMessage(message({ securityLevelCap: 1, quarantined: true }));
    expect(restricted).toMatchObject({ securityLevelCap: 1, quarantined: true });
    // As valid as a pool event's data.
    expect(poolData.safeParse(restricted).success).toBe(true);
  });
});
