import type { Caller } from '@cinode/auth';
import { FieldChecks, ValidationError } from '@cinode/common';
import type { RegisterPoolRequest } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { PoolsService } from '../src/pools/pools.service';
import { startAggregationWithInfra, type AggregationUnderTest } from './aggregation-harness';
import { POOL_SPEC } from './pool-spec.fixture';

/*
 * A provider's agent registers its pools again, with the same request ids, every time it starts.
 * A registration stored before a check grew stricter is answered from what was stored; only new
 * registrations meet the stricter check.
 */

let aggregation: AggregationUnderTest;
let pools: PoolsService;
const issued: string[] = [];

const PROVIDER: Caller = {
  subject: 'provider-1',
  roles: ['provider'],
  tenant: '6f1c2b9e-7d3a-4c5b-9e8f-0a1b2c3d4e5f',
  tokenId: 'token-1',
  expiresAt: new Date(Date.now() + 600_000),
};

/** A pool named with a right-to-left override, which one-line names now refuse. */
function registration(requestId: string): RegisterPoolRequest {
  return {
    requestId,
    contractVersion: 1,
    spec: { ...POOL_SPEC, name: 'Lingang \u202EUPG' },
  };
}

beforeAll(async () => {
  aggregation = await startAggregationWithInfra();
  pools = aggregation.service.app.get(PoolsService);
  // The identifier service, played here: each issue a new pool identifier.
  Object.assign(pools, {
    identifiers: {
      issue: async () => {
        const identifier = `CN.R0001.RP.${String(issued.length + 11).padStart(9, '0')}`;
        issued.push(identifier);
        return { identifier, filing: 'filed' };
      },
    },
  });
}, 60_000);

afterAll(async () => {
  await aggregation?.stop();
});

describe('a pool registered before its name was refused', () => {
  it('is answered from what was stored when registered again, and a new registration is refused', async () => {
    // Registered as this service did before one-line names: the `line` rule not applied.
    const text = FieldChecks.prototype.text;
    const lenient = jest.spyOn(FieldChecks.prototype, 'text').mockImplementation(function (
      this: FieldChecks,
      field,
      value,
      rules,
    ) {
      return text.call(this, field, value, { ...rules, line: false });
    });
    let first: Awaited<ReturnType<PoolsService['register']>>;
    try {
      first = await pools.register(PROVIDER, registration('agent-pool-1'));
    } finally {
      lenient.mockRestore();
    }
    expect(first.created).toBe(true);

    // The agent starts again: the same request, answered with the same pool.
    const again = await pools.register(PROVIDER, registration('agent-pool-1'));
    expect(again).toMatchObject({ created: false, pool: { poolId: first.pool.poolId } });
    expect(issued).toHaveLength(1);

    // A new registration of such a name is refused, naming the field.
    const refusal = await pools
      .register(PROVIDER, registration('agent-pool-2'))
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ValidationError);
    expect((refusal as ValidationError).fieldViolations.map((v) => v.field)).toEqual(['spec.name']);
    expect(issued).toHaveLength(1);
  });
});
