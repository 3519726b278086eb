import type { Caller, Role } from '@cinode/auth';
import { DomainError, PageTokens, ValidationError } from '@cinode/common';
import { LineRegistered, LineUpdated, type LineData } from '@cinode/contracts';
import { FakeTable, FakeUnitOfWork } from '@cinode/testing';
import type {
  LineSpec,
  UpdateLineRequest,
} from '@cinode/proto/gen/cinode/selection/v1/line_service';
import type { IssueLineIdentifier, LineIdentifiers } from './identifier.gateway';
import type { LineEntity, LineFiling } from './line.entity';
import type { LinesRepository } from './lines.repository';
import { LinesService } from './lines.service';

/** The repository's rows in memory, rolled back with the fake unit of work. */
class FakeLines {
  readonly lines = new FakeTable<string, LineEntity>();
  readonly filings = new FakeTable<string, { filing: LineFiling; version: number }>();

  get asRepository(): LinesRepository {
    return this as unknown as LinesRepository;
  }

  async lockIdentifier(): Promise<void> {}

  async countOfProvider(_tx: unknown, providerParticipantId: string): Promise<number> {
    return this.lines.values().filter((l) => l.providerParticipantId === providerParticipantId)
      .length;
  }

  async filingOf(_tx: unknown, identifier: string): Promise<LineFiling | undefined> {
    return this.filings.rows.get(identifier)?.filing;
  }

  async recordFiling(
    _tx: unknown,
    identifier: string,
    filing: LineFiling,
    version: number,
  ): Promise<boolean> {
    const held = this.filings.rows.get(identifier);
    if (held && held.version >= version) return false;
    this.filings.rows.set(identifier, { filing, version });
    return true;
  }

  async insert(_tx: unknown, line: LineEntity): Promise<void> {
    if (this.lines.rows.has(line.lineId)) throw new Error(`duplicate line ${line.lineId}`);
    this.lines.rows.set(line.lineId, { ...line });
  }

  async findById(lineId: string): Promise<LineEntity | undefined> {
    const line = this.lines.rows.get(lineId);
    return line && { ...line };
  }

  async lock(_tx: unknown, lineId: string): Promise<LineEntity | undefined> {
    return this.findById(lineId);
  }

  async save(_tx: unknown, line: LineEntity): Promise<void> {
    this.lines.rows.set(line.lineId, { ...line });
  }

  async list(filter: { providerParticipantId?: string }, limit: number): Promise<LineEntity[]> {
    return this.lines
      .values()
      .filter(
        (l) =>
          !filter.providerParticipantId || l.providerParticipantId === filter.providerParticipantId,
      )
      .slice(0, limit + 1);
  }
}

/** The identifier service: one LN identifier per request id, as its idempotency gives. */
class FakeIdentifiers implements LineIdentifiers {
  readonly issued = new Map<string, IssueLineIdentifier>();

  async issue(request: IssueLineIdentifier): Promise<{ identifier: string; filing: LineFiling }> {
    if (!this.issued.has(request.requestId)) this.issued.set(request.requestId, request);
    const serial = [...this.issued.keys()].indexOf(request.requestId) + 1;
    return { identifier: `cn.r0001.ln.${String(serial).padStart(8, '0')}x`, filing: 'pending' };
  }
}

function caller(subject: string, roles: Role[]): Caller {
  return {
    subject,
    roles,
    tenant: subject,
    tokenId: 't',
    expiresAt: new Date(Date.now() + 60_000),
  };
}

const LINE_PROVIDER = caller('line-provider-1', ['line_provider']);
const OTHER_LINE_PROVIDER = caller('line-provider-2', ['line_provider']);
const OPERATOR = caller('operator-1', ['operator']);

const SPEC: LineSpec = {
  name: 'Shanghai Lingang to Beijing Yizhuang',
  endpointA: { regionCode: '310115', site: 'sh-lingang-1' },
  endpointB: { regionCode: '110115', site: 'bj-yizhuang-2' },
  bandwidthMbpsTotal: 100_000,
  bandwidthMbpsFree: 40_000,
  latencyMs: 12,
  priceFenPerHour: 3_000,
  availability: 0.9995,
  outOfService: false,
};

function setUp(maxLinesPerProvider = 1_000) {
  const repository = new FakeLines();
  const uow = new FakeUnitOfWork(repository.lines, repository.filings);
  const identifiers = new FakeIdentifiers();
  const service = new LinesService(
    uow.asUnitOfWork,
    repository.asRepository,
    PageTokens.ephemeral(),
    identifiers,
    { MAX_LINES_PER_PROVIDER: maxLinesPerProvider },
  );
  return { repository, uow, identifiers, service };
}

async function violationsOf(work: Promise<unknown>): Promise<string[]> {
  const error: unknown = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).fieldViolations.map((v) => v.field);
}

async function refusal(work: Promise<unknown>): Promise<[string, string]> {
  const error: unknown = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return [(error as DomainError).kind, (error as DomainError).reason];
}

describe(LinesService.name, () => {
  describe('register', () => {
    it('registers a line of the calling line provider with an LN identifier, pending filing, and queues its event', async () => {
      const { service, uow, identifiers } = setUp();
      const { line, created } = await service.register(LINE_PROVIDER, {
        requestId: 'r-1',
        spec: SPEC,
        providerParticipantId: '',
      });
      expect(created).toBe(true);
      expect(line.lineId).toBe('CN.R0001.LN.00000001X');
      expect(line.providerParticipantId).toBe('line-provider-1');
      expect([line.filing, line.version]).toEqual(['pending', 1]);
      const [request] = identifiers.issued.values();
      expect(request.ownerParticipantId).toBe('line-provider-1');
      expect(request.name).toBe(SPEC.name);
      const [event] = uow.dataOf<LineData>(LineRegistered.type);
      expect(event).toMatchObject({
        lineId: 'CN.R0001.LN.00000001X',
        version: 1,
        state: 'pending_filing',
        endpointA: SPEC.endpointA,
        endpointB: SPEC.endpointB,
        bandwidthMbpsFree: 40_000,
        latencyMs: 12,
        priceFenPerHour: 3_000,
      });
    });

    it('refuses a line provider its line beyond MAX_LINES_PER_PROVIDER, before issuing an identifier', async () => {
      const { service, identifiers } = setUp(2);
      for (const requestId of ['r-1', 'r-2'])
        await service.register(LINE_PROVIDER, { requestId, spec: SPEC, providerParticipantId: '' });
      expect(
        await refusal(
          service.register(LINE_PROVIDER, {
            requestId: 'r-3',
            spec: SPEC,
            providerParticipantId: '',
          }),
        ),
      ).toEqual(['RESOURCE_EXHAUSTED', 'LINE_QUOTA_EXCEEDED']);
      expect(identifiers.issued.size).toBe(2);
      // Another provider has its own quota; a retry of a stored registration still answers.
      await service.register(OTHER_LINE_PROVIDER, {
        requestId: 'r-1',
        spec: SPEC,
        providerParticipantId: '',
      });
      const again = await service.register(LINE_PROVIDER, {
        requestId: 'r-1',
        spec: SPEC,
        providerParticipantId: '',
      });
      expect(again.created).toBe(false);
    });

    it('answers a retry with the first line and registers nothing more', async () => {
      const { service, uow, repository } = setUp();
      const request = { requestId: 'r-1', spec: SPEC, providerParticipantId: '' };
      const first = await service.register(LINE_PROVIDER, request);
      const again = await service.register(LINE_PROVIDER, request);
      expect(again.created).toBe(false);
      expect(again.line.lineId).toBe(first.line.lineId);
      expect(repository.lines.rows.size).toBe(1);
      expect(uow.events).toHaveLength(1);
    });

    it('starts filed when the filing was accepted before the registration committed', async () => {
      const { service, repository } = setUp();
      repository.filings.rows.set('CN.R0001.LN.00000001X', { filing: 'filed', version: 2 });
      const { line } = await service.register(LINE_PROVIDER, {
        requestId: 'r-1',
        spec: SPEC,
        providerParticipantId: '',
      });
      expect(line.filing).toBe('filed');
    });

    it('names every malformed field and issues no identifier', async () => {
      const { service, identifiers } = setUp();
      const fields = await violationsOf(
        service.register(LINE_PROVIDER, {
          requestId: 'not a request id',
          spec: {
            ...SPEC,
            name: ' ',
            endpointA: { regionCode: '31011', site: 'sh lingang' },
            endpointB: undefined,
            bandwidthMbpsTotal: 0,
            bandwidthMbpsFree: -1,
            latencyMs: 60_001,
            priceFenPerHour: 1.5,
            availability: 0,
          },
          providerParticipantId: '',
        }),
      );
      expect(fields.sort()).toEqual(
        [
          'request_id',
          'spec.name',
          'spec.endpoint_a.region_code',
          'spec.endpoint_a.site',
          'spec.endpoint_b',
          'spec.bandwidth_mbps_total',
          'spec.bandwidth_mbps_free',
          'spec.latency_ms',
          'spec.price_fen_per_hour',
          'spec.availability',
        ].sort(),
      );
      expect(identifiers.issued.size).toBe(0);
    });

    it('refuses a line between a site and itself, and more free bandwidth than the total', async () => {
      const { service } = setUp();
      const fields = await violationsOf(
        service.register(LINE_PROVIDER, {
          requestId: 'r-1',
          spec: { ...SPEC, endpointB: SPEC.endpointA, bandwidthMbpsFree: 100_001 },
          providerParticipantId: '',
        }),
      );
      expect(fields.sort()).toEqual(['spec.bandwidth_mbps_free', 'spec.endpoint_b']);
    });

    it('refuses a participant that is not a line provider, before issuing anything', async () => {
      const { service, identifiers } = setUp();
      const computeProvider = caller('provider-1', ['provider']);
      expect(
        await refusal(
          service.register(computeProvider, {
            requestId: 'r-1',
            spec: SPEC,
            providerParticipantId: '',
          }),
        ),
      ).toEqual(['PERMISSION_DENIED', 'ROLE_NOT_ALLOWED']);
      expect(identifiers.issued.size).toBe(0);
    });

    it("refuses a line provider registering another provider's line", async () => {
      const { service } = setUp();
      expect(
        await refusal(
          service.register(LINE_PROVIDER, {
            requestId: 'r-1',
            spec: SPEC,
            providerParticipantId: 'line-provider-2',
          }),
        ),
      ).toEqual(['PERMISSION_DENIED', 'NOT_OWNER']);
    });

    it('lets an operator register for the line provider it names, and only naming one', async () => {
      const { service } = setUp();
      expect(
        await violationsOf(
          service.register(OPERATOR, { requestId: 'r-1', spec: SPEC, providerParticipantId: '' }),
        ),
      ).toEqual(['provider_participant_id']);
      const { line } = await service.register(OPERATOR, {
        requestId: 'r-2',
        spec: SPEC,
        providerParticipantId: 'line-provider-2',
      });
      expect(line.providerParticipantId).toBe('line-provider-2');
    });
  });

  describe('update', () => {
    async function registered() {
      const setup = setUp();
      const { line } = await setup.service.register(LINE_PROVIDER, {
        requestId: 'r-1',
        spec: SPEC,
        providerParticipantId: '',
      });
      return { ...setup, lineId: line.lineId };
    }

    function update(
      lineId: string,
      mask: string[],
      spec: Partial<LineSpec>,
      expectedVersion = 0,
      expectedSpecVersion = 0,
    ) {
      return {
        lineId,
        spec: { ...SPEC, ...spec },
        updateMask: mask,
        expectedVersion,
        expectedSpecVersion,
      } satisfies UpdateLineRequest;
    }

    it('changes only the masked fields, advances the version and queues the whole line', async () => {
      const { service, uow, lineId } = await registered();
      const line = await service.update(
        LINE_PROVIDER,
        update(lineId, ['bandwidth_mbps_free', 'out_of_service'], {
          bandwidthMbpsFree: 10_000,
          outOfService: true,
          latencyMs: 1,
        }),
      );
      expect([line.bandwidthMbpsFree, line.outOfService, line.latencyMs, line.version]).toEqual([
        10_000,
        true,
        12,
        2,
      ]);
      const [event] = uow.dataOf<LineData>(LineUpdated.type);
      expect(event).toMatchObject({ lineId, version: 2, bandwidthMbpsFree: 10_000, latencyMs: 12 });
    });

    it("answers another provider's line as absent", async () => {
      const { service, lineId } = await registered();
      expect(
        await refusal(
          service.update(OTHER_LINE_PROVIDER, update(lineId, ['latency_ms'], { latencyMs: 5 })),
        ),
      ).toEqual(['NOT_FOUND', 'LINE_NOT_FOUND']);
    });

    it('refuses a change computed from another version', async () => {
      const { service, lineId } = await registered();
      expect(
        await refusal(
          service.update(LINE_PROVIDER, update(lineId, ['latency_ms'], { latencyMs: 5 }, 7)),
        ),
      ).toEqual(['ABORTED', 'VERSION_MISMATCH']);
      const line = await service.update(
        LINE_PROVIDER,
        update(lineId, ['latency_ms'], { latencyMs: 5 }, 1),
      );
      expect([line.latencyMs, line.version]).toEqual([5, 2]);
    });

    it('refuses unknown or fixed fields, and figures that no longer agree once merged', async () => {
      const { service, lineId } = await registered();
      expect(
        await violationsOf(service.update(LINE_PROVIDER, update(lineId, ['endpoint_a'], {}))),
      ).toEqual(['update_mask']);
      expect(
        await violationsOf(
          service.update(
            LINE_PROVIDER,
            update(lineId, ['bandwidth_mbps_total'], { bandwidthMbpsTotal: 1_000 }),
          ),
        ),
      ).toEqual(['spec.bandwidth_mbps_free']);
    });
  });

  it('lists a line provider its own lines only', async () => {
    const { service } = setUp();
    await service.register(LINE_PROVIDER, {
      requestId: 'a',
      spec: SPEC,
      providerParticipantId: '',
    });
    await service.register(OTHER_LINE_PROVIDER, {
      requestId: 'b',
      spec: SPEC,
      providerParticipantId: '',
    });
    const own = await service.list(LINE_PROVIDER, {
      providerParticipantId: '',
      pageSize: 0,
      pageToken: '',
    });
    expect(own.lines.map((l) => l.providerParticipantId)).toEqual(['line-provider-1']);
    expect(
      (await service.list(OPERATOR, { providerParticipantId: '', pageSize: 0, pageToken: '' }))
        .lines,
    ).toHaveLength(2);
    expect(
      await refusal(
        service.list(LINE_PROVIDER, {
          providerParticipantId: 'line-provider-2',
          pageSize: 0,
          pageToken: '',
        }),
      ),
    ).toEqual(['PERMISSION_DENIED', 'NOT_OWNER']);
  });
});
