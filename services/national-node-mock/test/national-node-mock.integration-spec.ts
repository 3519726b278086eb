import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { addCstDays, cstDateOf, exampleReportPayload, windowAt } from '@cinode/contracts';
import { NATIONAL_NODE_AUDIENCE, TokenIssuer, generateSigningKey } from '@cinode/auth';
import { createGrpcClient, fromTimestamp, toTimestamp, type GrpcClient } from '@cinode/grpc';
import {
  IdentifiedObjectType,
  NodeType,
  ReportKind,
  ReportType,
  SpecialRequestState,
  type FileIdentifierRequest,
  type IssueSpecialReportRequestRequest,
  type NationalNodeAdminServiceClient,
  type NationalNodeServiceClient,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import {
  TEST_TOKEN_SETTINGS,
  createTestAuth,
  createTestDatabase,
  expectGrpcError,
  type TestAuth,
  plaintext,
} from '@cinode/testing';
import { startMock, type MockUnderTest } from './mock-harness';
import { rawPublicKey, registerSigner, type UnsignedReport } from './report-signer';

let auth: TestAuth;
let databaseUrl: string;
let mock: MockUnderTest;
let nodeSeq = 0;

beforeAll(async () => {
  auth = await createTestAuth();
  databaseUrl = await createTestDatabase('national_mock');
  mock = await startMock(databaseUrl, auth);
});

afterAll(async () => {
  await mock?.stop();
});

afterEach(async () => {
  await mock.admin.api.setFaultInjection({
    faults: { unavailableRatio: 0, addedLatency: { seconds: 0, nanos: 0 }, outage: false },
  });
});

async function registerNode(overrides: Partial<{ nodeKey: string; regionCode: string }> = {}) {
  nodeSeq += 1;
  const response = await mock.node.api.registerNode({
    nodeKey: overrides.nodeKey ?? `install-${nodeSeq}-${randomUUID()}`,
    name: `Test node ${nodeSeq}`,
    nodeType: NodeType.NODE_TYPE_REGIONAL,
    regionCode: overrides.regionCode ?? '310000',
    operatorName: 'Shanghai Compute Operations Co.',
    endpoint: '',
  });
  return response.node!;
}

function filingRequest(
  nodeCode: string,
  identifier: string,
  objectName = 'GPU pool A',
): FileIdentifierRequest {
  return {
    nodeCode,
    identifier,
    objectType: IdentifiedObjectType.IDENTIFIED_OBJECT_TYPE_RESOURCE_POOL,
    objectName,
    ownerName: 'Example Cloud Ltd.',
    ownerCreditCode: '91310000MA1FL0000X',
    attributes: { region: 'east' },
    allocatedAt: toTimestamp(new Date('2026-11-23T08:00:00Z')),
  };
}

function reportRequest(nodeCode: string, reportId: string, payload: object): UnsignedReport {
  return {
    reportId,
    nodeCode,
    kind: ReportKind.REPORT_KIND_DAILY,
    specialRequestId: '',
    periodStart: toTimestamp(new Date('2026-11-22T00:00:00+08:00')),
    periodEnd: toTimestamp(new Date('2026-11-23T00:00:00+08:00')),
    generatedAt: toTimestamp(new Date('2026-11-23T07:10:00+08:00')),
    schemaVersion: '1',
    contentType: 'application/json',
    payload: Buffer.from(JSON.stringify(payload)),
  };
}

describe('national node mock: RegisterNode', () => {
  it('assigns a node code and identifier prefix, and returns the same registration for the same key', async () => {
    const key = `install-${randomUUID()}`;
    const first = await mock.node.api.registerNode({
      nodeKey: key,
      name: 'East node',
      nodeType: NodeType.NODE_TYPE_REGIONAL,
      regionCode: '310000',
      operatorName: 'Operator Co.',
      endpoint: 'grpcs://node.example:443',
    });
    expect(first.created).toBe(true);
    expect(first.node?.nodeCode).toMatch(/^R\d{4}$/);
    expect(first.node?.identifierPrefix).toBe(`CN.${first.node?.nodeCode}`);

    const again = await mock.node.api.registerNode({
      nodeKey: key,
      name: 'East node',
      nodeType: NodeType.NODE_TYPE_REGIONAL,
      regionCode: '310000',
      operatorName: 'Operator Co.',
      endpoint: 'grpcs://node.example:443',
    });
    expect(again.created).toBe(false);
    expect(again.node?.nodeCode).toBe(first.node?.nodeCode);
  });

  it('rejects the same key with a different region as ALREADY_EXISTS', async () => {
    const node = await registerNode({ nodeKey: `install-${randomUUID()}` });
    const error = await expectGrpcError(
      mock.node.api.registerNode({
        nodeKey: node.nodeKey,
        name: node.name,
        nodeType: NodeType.NODE_TYPE_REGIONAL,
        regionCode: '440000',
        operatorName: node.operatorName,
        endpoint: '',
      }),
      GrpcStatus.ALREADY_EXISTS,
    );
    expect(error.status?.errorInfo?.reason).toBe('NODE_KEY_CONFLICT');
    expect(error.status?.errorInfo?.metadata.node_code).toBe(node.nodeCode);
  });

  it('lists every bad field of an invalid registration', async () => {
    const error = await expectGrpcError(
      mock.node.api.registerNode({
        nodeKey: 'has spaces',
        name: '',
        nodeType: NodeType.NODE_TYPE_UNSPECIFIED,
        regionCode: '31',
        operatorName: 'x',
        endpoint: '',
      }),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(error.status?.fieldViolations.map((v) => v.field).sort()).toEqual(
      ['name', 'node_key', 'node_type', 'region_code'].sort(),
    );
    expect(error.status?.errorInfo?.domain).toBe('national-node-mock.cinode');
  });

  it('never hands out the same code twice under concurrent registrations', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => registerNode()));
    expect(new Set(results.map((n) => n.nodeCode)).size).toBe(8);
  });
});

describe('national node mock: FileIdentifier', () => {
  it('files an identifier once and is idempotent by identifier, in any letter case', async () => {
    const node = await registerNode();
    const identifier = `${node.identifierPrefix}.RP.000001`;
    const first = await mock.node.api.fileIdentifier(filingRequest(node.nodeCode, identifier));
    expect(first.created).toBe(true);
    expect(first.filing?.filingNumber).toMatch(/^NF\d{8}\d{6}$/);

    const retry = await mock.node.api.fileIdentifier(
      filingRequest(node.nodeCode, identifier.toLowerCase()),
    );
    expect(retry.created).toBe(false);
    expect(retry.filing?.filingNumber).toBe(first.filing?.filingNumber);

    const resolved = await mock.operatorReads.api.getIdentifierFiling({
      identifier: identifier.toLowerCase(),
    });
    expect(resolved.filing?.identifier).toBe(identifier.toUpperCase());
    expect(resolved.filing?.attributes).toEqual({ region: 'east' });
  });

  it('files exactly once when the same filing races with itself', async () => {
    const node = await registerNode();
    const identifier = `${node.identifierPrefix}.RP.000777`;
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        mock.node.api.fileIdentifier(filingRequest(node.nodeCode, identifier)),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.filing?.filingNumber)).size).toBe(1);
    const listed = await mock.operatorReads.api.listIdentifierFilings({
      nodeCode: node.nodeCode,
      pageSize: 0,
      pageToken: '',
    });
    expect(listed.filings).toHaveLength(1);
  });

  it('refuses a second filing of the same identifier with different content', async () => {
    const node = await registerNode();
    const identifier = `${node.identifierPrefix}.RP.000002`;
    await mock.node.api.fileIdentifier(filingRequest(node.nodeCode, identifier));
    const error = await expectGrpcError(
      mock.node.api.fileIdentifier(filingRequest(node.nodeCode, identifier, 'Another pool')),
      GrpcStatus.ALREADY_EXISTS,
    );
    expect(error.status?.errorInfo?.reason).toBe('IDENTIFIER_ALREADY_FILED');
  });

  it("refuses identifiers outside the node's prefix and filings from unknown nodes", async () => {
    const node = await registerNode();
    const outside = await expectGrpcError(
      mock.node.api.fileIdentifier(filingRequest(node.nodeCode, 'CN.R9999.RP.1')),
      GrpcStatus.FAILED_PRECONDITION,
    );
    expect(outside.status?.errorInfo?.reason).toBe('IDENTIFIER_OUTSIDE_PREFIX');
    const unknown = await expectGrpcError(
      mock.node.api.fileIdentifier(filingRequest('I9998', 'CN.I9998.RP.1')),
      GrpcStatus.FAILED_PRECONDITION,
    );
    expect(unknown.status?.errorInfo?.reason).toBe('NODE_NOT_REGISTERED');
  });

  it('validates every field of a filing', async () => {
    const error = await expectGrpcError(
      mock.node.api.fileIdentifier({
        ...filingRequest('R0001', 'bad identifier!'),
        objectType: IdentifiedObjectType.IDENTIFIED_OBJECT_TYPE_UNSPECIFIED,
        ownerCreditCode: 'short',
        allocatedAt: undefined,
      }),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(error.status?.fieldViolations.map((v) => v.field).sort()).toEqual(
      ['allocated_at', 'identifier', 'object_type', 'owner_credit_code'].sort(),
    );
  });

  it('pages through filings in filing order without gaps or repeats', async () => {
    const node = await registerNode();
    const identifiers: string[] = [];
    for (let i = 1; i <= 7; i += 1) {
      const identifier = `${node.identifierPrefix}.RP.${String(i).padStart(6, '0')}`;
      identifiers.push(identifier);
      await mock.node.api.fileIdentifier(filingRequest(node.nodeCode, identifier));
    }
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let pageToken = '';
    for (let page = 0; page < 10; page += 1) {
      const response = await mock.operatorReads.api.listIdentifierFilings({
        nodeCode: node.nodeCode,
        pageSize: 3,
        pageToken,
      });
      pageSizes.push(response.filings.length);
      seen.push(...response.filings.map((f) => f.identifier));
      pageToken = response.nextPageToken;
      if (!pageToken) break;
    }
    expect(pageSizes).toEqual([3, 3, 1]);
    expect(seen).toEqual(identifiers);

    const first = await mock.operatorReads.api.listIdentifierFilings({
      nodeCode: node.nodeCode,
      pageSize: 3,
      pageToken: '',
    });
    const misuse = await expectGrpcError(
      mock.operatorReads.api.listIdentifierFilings({
        nodeCode: '',
        pageSize: 3,
        pageToken: first.nextPageToken,
      }),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(misuse.status?.fieldViolations[0]?.field).toBe('page_token');
  });
});

describe('national node mock: RegisterReportSigningKey', () => {
  it('registers a key once per node and refuses it for another node', async () => {
    const node = await registerNode();
    const other = await registerNode();
    const { publicKey } = generateKeyPairSync('ed25519');
    const raw = rawPublicKey(publicKey);
    const first = await mock.node.api.registerReportSigningKey({
      nodeCode: node.nodeCode,
      publicKey: raw,
    });
    expect(first.created).toBe(true);
    expect(first.key?.keyId).toBe(createHash('sha256').update(raw).digest('hex'));
    const again = await mock.node.api.registerReportSigningKey({
      nodeCode: node.nodeCode,
      publicKey: raw,
    });
    expect(again).toEqual({ ...first, created: false });
    const error = await expectGrpcError(
      mock.node.api.registerReportSigningKey({ nodeCode: other.nodeCode, publicKey: raw }),
      GrpcStatus.ALREADY_EXISTS,
    );
    expect(error.status?.errorInfo?.reason).toBe('SIGNING_KEY_CONFLICT');
  });

  it('refuses a key that is no raw Ed25519 public key, and unknown nodes', async () => {
    const node = await registerNode();
    const error = await expectGrpcError(
      mock.node.api.registerReportSigningKey({
        nodeCode: node.nodeCode,
        publicKey: Buffer.alloc(31),
      }),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(error.status?.fieldViolations.map((v) => v.field)).toEqual(['public_key']);
    const { publicKey } = generateKeyPairSync('ed25519');
    const unknown = await expectGrpcError(
      mock.node.api.registerReportSigningKey({
        nodeCode: 'R9999',
        publicKey: rawPublicKey(publicKey),
      }),
      GrpcStatus.FAILED_PRECONDITION,
    );
    expect(unknown.status?.errorInfo?.reason).toBe('NODE_NOT_REGISTERED');
  });
});

describe('national node mock: SubmitReport', () => {
  it('stores a signed report once and returns the same receipt for a retry', async () => {
    const node = await registerNode();
    const signer = await registerSigner(mock.node, node.nodeCode);
    const reportId = randomUUID();
    const payload = exampleReportPayload();
    const request = signer.sign(reportRequest(node.nodeCode, reportId, payload));
    const first = await mock.node.api.submitReport(request);
    expect(first.created).toBe(true);
    expect(first.receiptNumber).toMatch(/^RR\d{14}$/);

    const retry = await mock.node.api.submitReport(request);
    expect(retry).toEqual({ ...first, created: false });

    const stored = await mock.operatorReads.api.getReport({ reportId });
    expect(JSON.parse(Buffer.from(stored.report!.payload).toString('utf8'))).toEqual(payload);
    expect(stored.report?.payloadSize).toBe(Buffer.byteLength(JSON.stringify(payload)));
    expect(stored.report?.signingKeyId).toBe(signer.keyId);

    const listed = await mock.operatorReads.api.listReports({
      nodeCode: node.nodeCode,
      kind: 0,
      pageSize: 10,
      pageToken: '',
    });
    expect(listed.reports.map((r) => r.reportId)).toEqual([reportId]);
    expect(listed.reports[0]?.payload).toHaveLength(0);
  });

  it('refuses a different report under an id already used', async () => {
    const node = await registerNode();
    const signer = await registerSigner(mock.node, node.nodeCode);
    const reportId = randomUUID();
    const payload = exampleReportPayload();
    await mock.node.api.submitReport(signer.sign(reportRequest(node.nodeCode, reportId, payload)));
    payload.compute.cpu_cores_free -= 1;
    const error = await expectGrpcError(
      mock.node.api.submitReport(signer.sign(reportRequest(node.nodeCode, reportId, payload))),
      GrpcStatus.ALREADY_EXISTS,
    );
    expect(error.status?.errorInfo?.reason).toBe('REPORT_ID_CONFLICT');
  });

  it('validates the envelope, the signature fields and the payload', async () => {
    const node = await registerNode();
    const request = reportRequest(node.nodeCode, 'not-a-uuid', {});
    const error = await expectGrpcError(
      mock.node.api.submitReport({
        ...request,
        kind: ReportKind.REPORT_KIND_SPECIAL,
        contentType: 'text/plain',
        payload: Buffer.alloc(0),
        periodEnd: request.periodStart,
        signature: Buffer.alloc(3),
        signingKeyId: 'ABC',
      }),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(error.status?.fieldViolations.map((v) => v.field).sort()).toEqual(
      [
        'content_type',
        'payload',
        'period_end',
        'report_id',
        'signature',
        'signing_key_id',
        'special_request_id',
      ].sort(),
    );
  });

  it('refuses a payload that is not UTF-8 rather than reading it with replacement characters', async () => {
    const node = await registerNode();
    const signer = await registerSigner(mock.node, node.nodeCode);
    const error = await expectGrpcError(
      mock.node.api.submitReport(
        signer.sign({
          ...reportRequest(node.nodeCode, randomUUID(), {}),
          payload: Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff]), Buffer.from('"}')]),
        }),
      ),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(error.status?.fieldViolations).toEqual([
      { field: 'payload', description: 'must be UTF-8' },
    ]);
  });

  it('reads nothing of a payload before its signature verifies', async () => {
    const node = await registerNode();
    const signer = await registerSigner(mock.node, node.nodeCode);
    const unsigned = {
      ...reportRequest(node.nodeCode, randomUUID(), {}),
      payload: Buffer.from('{"not": json'),
    };
    // Not JSON, and not signed by the node: refused for the signature, the payload unread.
    const error = await expectGrpcError(
      mock.node.api.submitReport({ ...signer.sign(unsigned), signature: Buffer.alloc(64) }),
      GrpcStatus.PERMISSION_DENIED,
    );
    expect(error.status?.errorInfo?.reason).toBe('SIGNATURE_INVALID');
    // Signed, it is read and named.
    const syntax = await expectGrpcError(
      mock.node.api.submitReport(signer.sign(unsigned)),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(syntax.status?.fieldViolations).toEqual([
      { field: 'payload', description: expect.stringMatching(/^is not JSON/) },
    ]);
  });

  it('refuses a signed payload that readers could read differently: a name twice, NUL, -0, a lone surrogate', async () => {
    const node = await registerNode();
    const signer = await registerSigner(mock.node, node.nodeCode);
    const example = JSON.stringify(exampleReportPayload());
    const cases: Array<{ payload: string; field: string; description: string | RegExp }> = [
      {
        // The second cpu_cores_free would win in JSON.parse, the first in other readers.
        payload: example.replace('"cpu_cores_free":', '"cpu_cores_free":0,"cpu_cores_free":'),
        field: 'payload.compute.cpu_cores_free',
        description: 'is a member name given twice',
      },
      {
        payload: example.replace(/"organization_name":"/, '"organization_name":"\\u0000'),
        field: 'payload.base.organization_name',
        description: 'holds a control character',
      },
      {
        payload: example.replace(/"organization_name":"/, '"organization_name":"\\udc00'),
        field: 'payload.base.organization_name',
        description: 'holds a lone surrogate (not Unicode)',
      },
      {
        payload: example.replace(/"cpu_cores_free":\d+/, '"cpu_cores_free":-0'),
        field: 'payload.compute.cpu_cores_free',
        description: 'must not be negative zero',
      },
    ];
    for (const { payload, field, description } of cases) {
      expect(payload).not.toBe(example);
      const error = await expectGrpcError(
        mock.node.api.submitReport(
          signer.sign({
            ...reportRequest(node.nodeCode, randomUUID(), {}),
            payload: Buffer.from(payload),
          }),
        ),
        GrpcStatus.INVALID_ARGUMENT,
      );
      expect(error.status?.fieldViolations).toEqual([{ field, description }]);
    }
    const listed = await mock.operatorReads.api.listReports({
      nodeCode: node.nodeCode,
      kind: 0,
      pageSize: 10,
      pageToken: '',
    });
    expect(listed.reports).toHaveLength(0);
  });

  it('names an unknown report type, a missing field and a bad value in a signed payload', async () => {
    const node = await registerNode();
    const signer = await registerSigner(mock.node, node.nodeCode);
    const payload = exampleReportPayload() as unknown as Record<string, Record<string, unknown>>;
    payload['weather'] = { sunny: true };
    delete payload['compute']['cpu_cores_free'];
    payload['compute']['gpu_cards_free'] = 'many';
    const error = await expectGrpcError(
      mock.node.api.submitReport(signer.sign(reportRequest(node.nodeCode, randomUUID(), payload))),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(error.status?.fieldViolations).toEqual(
      expect.arrayContaining([
        { field: 'payload.weather', description: 'unknown report type' },
        { field: 'payload.compute.cpu_cores_free', description: 'is required' },
        expect.objectContaining({ field: 'payload.compute.gpu_cards_free' }),
      ]),
    );
    expect(error.status?.fieldViolations).toHaveLength(3);
  });

  it('refuses a tampered payload, a tampered signature and a key of another node', async () => {
    const node = await registerNode();
    const other = await registerNode();
    const signer = await registerSigner(mock.node, node.nodeCode);
    const otherSigner = await registerSigner(mock.node, other.nodeCode);
    const signed = signer.sign(reportRequest(node.nodeCode, randomUUID(), exampleReportPayload()));

    const tamperedPayload = exampleReportPayload();
    tamperedPayload.compute.cpu_cores_free += 1;
    const payloadError = await expectGrpcError(
      mock.node.api.submitReport({
        ...signed,
        payload: Buffer.from(JSON.stringify(tamperedPayload)),
      }),
      GrpcStatus.PERMISSION_DENIED,
    );
    expect(payloadError.status?.errorInfo?.reason).toBe('SIGNATURE_INVALID');

    const signature = Buffer.from(signed.signature);
    signature[10] = signature[10] ^ 0x01;
    const signatureError = await expectGrpcError(
      mock.node.api.submitReport({ ...signed, signature }),
      GrpcStatus.PERMISSION_DENIED,
    );
    expect(signatureError.status?.errorInfo?.reason).toBe('SIGNATURE_INVALID');

    const envelopeError = await expectGrpcError(
      mock.node.api.submitReport({ ...signed, generatedAt: signed.periodEnd }),
      GrpcStatus.PERMISSION_DENIED,
    );
    expect(envelopeError.status?.errorInfo?.reason).toBe('SIGNATURE_INVALID');

    const keyError = await expectGrpcError(
      mock.node.api.submitReport({ ...signed, signingKeyId: otherSigner.keyId }),
      GrpcStatus.FAILED_PRECONDITION,
    );
    expect(keyError.status?.errorInfo?.reason).toBe('SIGNING_KEY_NOT_REGISTERED');
    const listed = await mock.operatorReads.api.listReports({
      nodeCode: node.nodeCode,
      kind: 0,
      pageSize: 10,
      pageToken: '',
    });
    expect(listed.reports).toHaveLength(0);

    await expect(mock.node.api.submitReport(signed)).resolves.toMatchObject({ created: true });
  });
});

describe('national node mock: ListReportingCompliance', () => {
  it("records whether the day's daily report arrived inside a window", async () => {
    const node = await registerNode();
    const signer = await registerSigner(mock.node, node.nodeCode);
    const receipt = await mock.node.api.submitReport(
      signer.sign(reportRequest(node.nodeCode, randomUUID(), exampleReportPayload())),
    );
    const receivedAt = fromTimestamp(receipt.receivedAt!);
    const today = cstDateOf(receivedAt);
    const { days } = await mock.operatorReads.api.listReportingCompliance({
      nodeCode: node.nodeCode,
      startDate: addCstDays(today, -1),
      endDate: today,
    });
    expect(days.map((d) => d.date)).toEqual([addCstDays(today, -1), today]);
    expect(days[0]).toMatchObject({ met: false, reportsOutsideWindows: 0 });
    expect(days[0].windows.map((w) => [w.window, w.onTime])).toEqual([
      ['morning', false],
      ['noon', false],
      ['evening', false],
    ]);
    const inWindow = windowAt(receivedAt)?.name;
    const day = days[1];
    expect(day.met).toBe(inWindow !== undefined);
    expect(day.reportsOutsideWindows).toBe(inWindow === undefined ? 1 : 0);
    for (const w of day.windows) expect(w.onTime).toBe(w.window === inWindow);
  });

  it('refuses a malformed date and too long a range', async () => {
    const node = await registerNode();
    const error = await expectGrpcError(
      mock.operatorReads.api.listReportingCompliance({
        nodeCode: node.nodeCode,
        startDate: '2026-02-30',
        endDate: '2027-01-01',
      }),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(error.status?.fieldViolations.map((v) => v.field)).toEqual(['start_date']);
    const range = await expectGrpcError(
      mock.operatorReads.api.listReportingCompliance({
        nodeCode: node.nodeCode,
        startDate: '2026-01-01',
        endDate: '2026-12-31',
      }),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(range.status?.fieldViolations.map((v) => v.field)).toEqual(['end_date']);
  });
});

describe('national node mock: special report requests', () => {
  const periodStart = new Date('2026-10-01T00:00:00+08:00');
  const periodEnd = new Date('2026-10-08T00:00:00+08:00');

  function issueRequest(
    nodeCode: string,
    overrides: Partial<IssueSpecialReportRequestRequest> = {},
  ): IssueSpecialReportRequestRequest {
    return {
      nodeCode,
      reportTypes: [
        ReportType.REPORT_TYPE_COMPUTE_INFORMATION,
        ReportType.REPORT_TYPE_SECURITY_INFORMATION,
      ],
      periodStart: toTimestamp(periodStart),
      periodEnd: toTimestamp(periodEnd),
      reason: '国庆节保障',
      deadline: undefined,
      requestId: '',
      ...overrides,
    };
  }

  function answer(nodeCode: string, specialRequestId: string, reportId = randomUUID()) {
    return {
      ...reportRequest(nodeCode, reportId, exampleReportPayload()),
      kind: ReportKind.REPORT_KIND_SPECIAL,
      specialRequestId,
      periodStart: toTimestamp(periodStart),
      periodEnd: toTimestamp(periodEnd),
    };
  }

  it('issues a request due a minute later, lists it open for its node, and records its answer on time', async () => {
    const node = await registerNode();
    const other = await registerNode();
    const signer = await registerSigner(mock.node, node.nodeCode);
    const { request } = await mock.admin.api.issueSpecialReportRequest(
      issueRequest(node.nodeCode, { requestId: 'holiday-1' }),
    );
    const issued = request!;
    expect(issued.specialRequestId).toMatch(/^SR\d{14}$/);
    expect(issued.reportTypes).toEqual([
      ReportType.REPORT_TYPE_COMPUTE_INFORMATION,
      ReportType.REPORT_TYPE_SECURITY_INFORMATION,
    ]);
    expect(
      fromTimestamp(issued.deadline!).getTime() - fromTimestamp(issued.issuedAt!).getTime(),
    ).toBe(60_000);
    expect(issued).toMatchObject({
      state: SpecialRequestState.SPECIAL_REQUEST_STATE_OPEN,
      answeredReportId: '',
      onTime: false,
    });
    // The same request id again is the same request.
    const retried = await mock.admin.api.issueSpecialReportRequest(
      issueRequest(node.nodeCode, { requestId: 'holiday-1' }),
    );
    expect(retried.request!.specialRequestId).toBe(issued.specialRequestId);

    const open = await mock.node.api.listSpecialReportRequests({
      nodeCode: node.nodeCode,
      state: SpecialRequestState.SPECIAL_REQUEST_STATE_OPEN,
      issuedSince: undefined,
      pageSize: 10,
      pageToken: '',
    });
    expect(open.requests.map((r) => r.specialRequestId)).toEqual([issued.specialRequestId]);
    const others = await mock.node.api.listSpecialReportRequests({
      nodeCode: other.nodeCode,
      state: SpecialRequestState.SPECIAL_REQUEST_STATE_UNSPECIFIED,
      issuedSince: undefined,
      pageSize: 10,
      pageToken: '',
    });
    expect(others.requests).toEqual([]);

    const reportId = randomUUID();
    const receipt = await mock.node.api.submitReport(
      signer.sign(answer(node.nodeCode, issued.specialRequestId, reportId)),
    );
    // A second report for the same request is received, but the first stays its answer.
    await mock.node.api.submitReport(signer.sign(answer(node.nodeCode, issued.specialRequestId)));

    const answered = await mock.operatorReads.api.listSpecialReportRequests({
      nodeCode: node.nodeCode,
      state: SpecialRequestState.SPECIAL_REQUEST_STATE_ANSWERED,
      issuedSince: undefined,
      pageSize: 10,
      pageToken: '',
    });
    expect(answered.requests).toHaveLength(1);
    expect(answered.requests[0]).toMatchObject({
      specialRequestId: issued.specialRequestId,
      state: SpecialRequestState.SPECIAL_REQUEST_STATE_ANSWERED,
      answeredReportId: reportId,
      answeredAt: receipt.receivedAt,
      onTime: true,
    });
    const stillOpen = await mock.node.api.listSpecialReportRequests({
      nodeCode: node.nodeCode,
      state: SpecialRequestState.SPECIAL_REQUEST_STATE_OPEN,
      issuedSince: undefined,
      pageSize: 10,
      pageToken: '',
    });
    expect(stillOpen.requests).toEqual([]);

    const day = cstDateOf(fromTimestamp(issued.issuedAt!));
    const { days } = await mock.operatorReads.api.listReportingCompliance({
      nodeCode: node.nodeCode,
      startDate: day,
      endDate: '',
    });
    expect(days[0]).toMatchObject({
      specialRequestsIssued: 1,
      specialRequestsOnTime: 1,
      specialRequestsLate: 0,
      specialRequestsOpen: 0,
      specialRequestsMet: true,
    });
  });

  it('records an answer after the deadline as late, and an unanswered overdue request as missed', async () => {
    const node = await registerNode();
    const signer = await registerSigner(mock.node, node.nodeCode);
    const deadline = new Date(Date.now() + 1_500);
    const late = (
      await mock.admin.api.issueSpecialReportRequest(
        issueRequest(node.nodeCode, { deadline: toTimestamp(deadline) }),
      )
    ).request!;
    await mock.admin.api.issueSpecialReportRequest(
      issueRequest(node.nodeCode, { deadline: toTimestamp(deadline) }),
    );
    // The deadline itself is what the test waits for.
    await new Promise((resolve) => setTimeout(resolve, deadline.getTime() - Date.now() + 50));
    await mock.node.api.submitReport(signer.sign(answer(node.nodeCode, late.specialRequestId)));

    const { requests } = await mock.operatorReads.api.listSpecialReportRequests({
      nodeCode: node.nodeCode,
      state: SpecialRequestState.SPECIAL_REQUEST_STATE_UNSPECIFIED,
      issuedSince: undefined,
      pageSize: 10,
      pageToken: '',
    });
    expect(requests.map((r) => [r.state, r.onTime])).toEqual([
      [SpecialRequestState.SPECIAL_REQUEST_STATE_ANSWERED, false],
      [SpecialRequestState.SPECIAL_REQUEST_STATE_OPEN, false],
    ]);
    const { days } = await mock.operatorReads.api.listReportingCompliance({
      nodeCode: node.nodeCode,
      startDate: cstDateOf(fromTimestamp(late.issuedAt!)),
      endDate: '',
    });
    expect(days[0]).toMatchObject({
      specialRequestsIssued: 2,
      specialRequestsOnTime: 0,
      specialRequestsLate: 1,
      specialRequestsOpen: 1,
      specialRequestsMet: false,
    });
  });

  it('refuses a special report for a request of another node, of no request, or for another period', async () => {
    const node = await registerNode();
    const other = await registerNode();
    const signer = await registerSigner(mock.node, node.nodeCode);
    const theirs = (await mock.admin.api.issueSpecialReportRequest(issueRequest(other.nodeCode)))
      .request!;
    const ours = (await mock.admin.api.issueSpecialReportRequest(issueRequest(node.nodeCode)))
      .request!;
    for (const id of [theirs.specialRequestId, 'SR20990101999999']) {
      const refused = await expectGrpcError(
        mock.node.api.submitReport(signer.sign(answer(node.nodeCode, id))),
        GrpcStatus.NOT_FOUND,
      );
      expect(refused.status?.errorInfo?.reason).toBe('SPECIAL_REQUEST_NOT_FOUND');
    }
    const malformed = await expectGrpcError(
      mock.node.api.submitReport(signer.sign(answer(node.nodeCode, 'holiday'))),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(malformed.status?.fieldViolations.map((v) => v.field)).toEqual(['special_request_id']);
    const otherPeriod = await expectGrpcError(
      mock.node.api.submitReport(
        signer.sign({
          ...answer(node.nodeCode, ours.specialRequestId),
          periodStart: toTimestamp(new Date(periodStart.getTime() - 1)),
        }),
      ),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(otherPeriod.status?.fieldViolations.map((v) => v.field)).toEqual(['period_start']);
    const { requests } = await mock.operatorReads.api.listSpecialReportRequests({
      nodeCode: node.nodeCode,
      state: SpecialRequestState.SPECIAL_REQUEST_STATE_OPEN,
      issuedSince: undefined,
      pageSize: 10,
      pageToken: '',
    });
    expect(requests.map((r) => r.specialRequestId)).toEqual([ours.specialRequestId]);
  });

  it('names every bad field of a request, refuses unknown nodes and states', async () => {
    const node = await registerNode();
    const invalid = await expectGrpcError(
      mock.admin.api.issueSpecialReportRequest({
        nodeCode: node.nodeCode,
        reportTypes: [
          ReportType.REPORT_TYPE_BASE_INFORMATION,
          9 as ReportType,
          ReportType.REPORT_TYPE_BASE_INFORMATION,
        ],
        periodStart: toTimestamp(periodEnd),
        periodEnd: toTimestamp(periodStart),
        reason: '',
        deadline: undefined,
        requestId: 'bad id',
      }),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(invalid.status?.fieldViolations.map((v) => v.field).sort()).toEqual([
      'reason',
      'report_types[1]',
      'report_types[2]',
      'request_id',
    ]);
    const order = await expectGrpcError(
      mock.admin.api.issueSpecialReportRequest(
        issueRequest(node.nodeCode, {
          periodStart: toTimestamp(periodEnd),
          periodEnd: toTimestamp(periodStart),
          deadline: toTimestamp(new Date(Date.now() - 1_000)),
        }),
      ),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(order.status?.fieldViolations.map((v) => v.field)).toEqual(['period_end', 'deadline']);
    const none = await expectGrpcError(
      mock.admin.api.issueSpecialReportRequest(issueRequest(node.nodeCode, { reportTypes: [] })),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(none.status?.fieldViolations.map((v) => v.field)).toEqual(['report_types']);
    const unknown = await expectGrpcError(
      mock.admin.api.issueSpecialReportRequest(issueRequest('R9999')),
      GrpcStatus.NOT_FOUND,
    );
    expect(unknown.status?.errorInfo?.reason).toBe('NODE_NOT_FOUND');
    const state = await expectGrpcError(
      mock.node.api.listSpecialReportRequests({
        nodeCode: node.nodeCode,
        state: 7 as SpecialRequestState,
        issuedSince: undefined,
        pageSize: 10,
        pageToken: '',
      }),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(state.status?.fieldViolations.map((v) => v.field)).toEqual(['state']);
  });

  it('refuses regulators and services issuing requests, and is never faulted', async () => {
    const node = await registerNode();
    for (const roles of [['regulator'], ['service']] as const) {
      const token = await auth.nationalToken([...roles]);
      const client = createGrpcClient<NationalNodeAdminServiceClient>(
        'cinode.national.v1.NationalNodeAdminService',
        { address: mock.address, credentials: plaintext(), token: () => token },
      );
      try {
        await expectGrpcError(
          client.api.issueSpecialReportRequest(issueRequest(node.nodeCode)),
          GrpcStatus.PERMISSION_DENIED,
        );
      } finally {
        client.close();
      }
    }
    await mock.admin.api.setFaultInjection({
      faults: { unavailableRatio: 0, addedLatency: undefined, outage: true },
    });
    const issued = await mock.admin.api.issueSpecialReportRequest(issueRequest(node.nodeCode));
    expect(issued.request!.nodeCode).toBe(node.nodeCode);
    await expectGrpcError(
      mock.node.api.listSpecialReportRequests({
        nodeCode: node.nodeCode,
        state: SpecialRequestState.SPECIAL_REQUEST_STATE_OPEN,
        issuedSince: undefined,
        pageSize: 10,
        pageToken: '',
      }),
      GrpcStatus.UNAVAILABLE,
    );
  });
});

describe('national node mock: each node acts only for itself', () => {
  let other: MockUnderTest;
  let otherNode: GrpcClient<NationalNodeServiceClient>;

  beforeAll(async () => {
    // A second node: its services sign with a service key of its own, which the mock also accepts.
    const otherKey = await generateSigningKey('other-node-service-key', 'service');
    const keys = JSON.parse(auth.publicKeys) as { keys: object[] };
    other = await startMock(databaseUrl, auth, {
      AUTH_JWT_PUBLIC_KEYS: JSON.stringify({ keys: [...keys.keys, otherKey.publicJwk] }),
    });
    const token = await new TokenIssuer(otherKey, TEST_TOKEN_SETTINGS).issue({
      subject: 'identifier',
      roles: ['service'],
      ttlSeconds: 300,
      audience: NATIONAL_NODE_AUDIENCE,
    });
    otherNode = createGrpcClient<NationalNodeServiceClient>(
      'cinode.national.v1.NationalNodeService',
      { address: other.address, credentials: plaintext(), token: () => token },
    );
  });

  afterAll(async () => {
    otherNode?.close();
    await other?.stop();
  });

  it("refuses another node's service changing or reading the node, and lets the national node's staff read it", async () => {
    const node = await registerNode({ nodeKey: `owned-${randomUUID()}` });
    const signer = await registerSigner(other.node, node.nodeCode);
    const report = signer.sign(reportRequest(node.nodeCode, randomUUID(), exampleReportPayload()));
    await other.node.api.submitReport(report);

    // Registering the same node key again, a signing key, a report, a filing: NODE_NOT_OWNED.
    const refusals = [
      otherNode.api.registerNode({
        nodeKey: node.nodeKey,
        name: node.name,
        nodeType: node.nodeType,
        regionCode: node.regionCode,
        operatorName: node.operatorName,
        endpoint: '',
      }),
      otherNode.api.registerReportSigningKey({
        nodeCode: node.nodeCode,
        publicKey: rawPublicKey(generateKeyPairSync('ed25519').publicKey),
      }),
      otherNode.api.submitReport(
        signer.sign(reportRequest(node.nodeCode, randomUUID(), exampleReportPayload())),
      ),
      otherNode.api.fileIdentifier(filingRequest(node.nodeCode, `${node.identifierPrefix}.RP.1`)),
    ];
    for (const call of refusals) {
      const refused = await expectGrpcError(call, GrpcStatus.PERMISSION_DENIED);
      expect(refused.status?.errorInfo?.reason).toBe('NODE_NOT_OWNED');
    }

    // Its reads see nothing of the node.
    for (const call of [
      otherNode.api.getNode({ nodeCode: node.nodeCode }),
      otherNode.api.getReport({ reportId: report.reportId }),
      otherNode.api.listReportingCompliance({
        nodeCode: node.nodeCode,
        startDate: cstDateOf(new Date()),
        endDate: '',
      }),
      otherNode.api.listSpecialReportRequests({
        nodeCode: node.nodeCode,
        state: SpecialRequestState.SPECIAL_REQUEST_STATE_UNSPECIFIED,
        issuedSince: undefined,
        pageSize: 10,
        pageToken: '',
      }),
    ])
      await expectGrpcError(call, GrpcStatus.NOT_FOUND);
    const listed = await otherNode.api.listReports({
      nodeCode: '',
      kind: 0,
      pageSize: 500,
      pageToken: '',
    });
    expect(listed.reports.filter((r) => r.nodeCode === node.nodeCode)).toEqual([]);
    const nodes = await otherNode.api.listNodes({ pageSize: 500, pageToken: '' });
    expect(nodes.nodes.map((n) => n.nodeCode)).not.toContain(node.nodeCode);

    // Its own services and the national node's operators still see it.
    expect((await other.node.api.getReport({ reportId: report.reportId })).report?.nodeCode).toBe(
      node.nodeCode,
    );
    expect(
      (await other.operatorReads.api.getReport({ reportId: report.reportId })).report?.nodeCode,
    ).toBe(node.nodeCode);
  });
});

describe('national node mock: access', () => {
  it("refuses tokens minted for a node's own audience, whatever their role", async () => {
    for (const token of [
      await auth.token(['service'], 'identifier'),
      await auth.token(['operator'], 'op-1'),
    ]) {
      const asNode = createGrpcClient<NationalNodeServiceClient>(
        'cinode.national.v1.NationalNodeService',
        { address: mock.address, credentials: plaintext(), token: () => token },
      );
      try {
        const refused = await expectGrpcError(
          asNode.api.listNodes({ pageSize: 1, pageToken: '' }),
          GrpcStatus.UNAUTHENTICATED,
        );
        expect(refused.status?.errorInfo?.reason).toBe('TOKEN_AUDIENCE_MISMATCH');
      } finally {
        asNode.close();
      }
    }
    // The same roles minted for the national node are let in.
    await expect(
      mock.operatorReads.api.listNodes({ pageSize: 1, pageToken: '' }),
    ).resolves.toBeDefined();
  });

  it('lets only operators change fault injection and only declared roles call', async () => {
    const serviceToken = await auth.nationalToken(['service']);
    const asService = createGrpcClient<NationalNodeAdminServiceClient>(
      'cinode.national.v1.NationalNodeAdminService',
      { address: mock.address, credentials: plaintext(), token: () => serviceToken },
    );
    const providerToken = await auth.nationalToken(['provider']);
    const asProvider = createGrpcClient<NationalNodeServiceClient>(
      'cinode.national.v1.NationalNodeService',
      {
        address: mock.address,
        credentials: plaintext(),
        token: () => providerToken,
      },
    );
    try {
      await expectGrpcError(
        asService.api.setFaultInjection({
          faults: { unavailableRatio: 0, addedLatency: undefined, outage: true },
        }),
        GrpcStatus.PERMISSION_DENIED,
      );
      await expectGrpcError(
        asProvider.api.listNodes({ pageSize: 1, pageToken: '' }),
        GrpcStatus.PERMISSION_DENIED,
      );
      const anonymous = createGrpcClient<NationalNodeServiceClient>(
        'cinode.national.v1.NationalNodeService',
        {
          address: mock.address,
          credentials: plaintext(),
        },
      );
      await expectGrpcError(
        anonymous.api.listNodes({ pageSize: 1, pageToken: '' }),
        GrpcStatus.UNAUTHENTICATED,
      );
      anonymous.close();
    } finally {
      asService.close();
      asProvider.close();
    }
  });
});

describe('national node mock: fault injection', () => {
  it('answers every call UNAVAILABLE during a full outage and stores nothing', async () => {
    const node = await registerNode();
    await mock.admin.api.setFaultInjection({
      faults: { unavailableRatio: 0, addedLatency: undefined, outage: true },
    });
    const identifier = `${node.identifierPrefix}.RP.900001`;
    const error = await expectGrpcError(
      mock.node.api.fileIdentifier(filingRequest(node.nodeCode, identifier)),
      GrpcStatus.UNAVAILABLE,
    );
    expect(error.status?.errorInfo?.reason).toBe('INJECTED_OUTAGE');
    expect(error.status?.retryDelaySeconds).toBe(1);
    await expectGrpcError(
      mock.operatorReads.api.listNodes({ pageSize: 1, pageToken: '' }),
      GrpcStatus.UNAVAILABLE,
    );

    const current = await mock.admin.api.getFaultInjection({});
    expect(current.faults?.outage).toBe(true);
    await mock.admin.api.setFaultInjection({
      faults: { unavailableRatio: 0, addedLatency: undefined, outage: false },
    });
    await expectGrpcError(
      mock.operatorReads.api.getIdentifierFiling({ identifier }),
      GrpcStatus.NOT_FOUND,
    );
  });

  it('fails about the configured share of calls', async () => {
    await mock.admin.api.setFaultInjection({
      faults: { unavailableRatio: 0.5, addedLatency: undefined, outage: false },
    });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 200 }, () =>
        mock.operatorReads.api.listNodes({ pageSize: 1, pageToken: '' }),
      ),
    );
    const failed = outcomes.filter((o) => o.status === 'rejected').length;
    // Binomial(200, 0.5): 60..140 holds with probability above 1 - 1e-8.
    expect(failed).toBeGreaterThanOrEqual(60);
    expect(failed).toBeLessThanOrEqual(140);

    await mock.admin.api.setFaultInjection({
      faults: { unavailableRatio: 1, addedLatency: undefined, outage: false },
    });
    await expectGrpcError(
      mock.operatorReads.api.listNodes({ pageSize: 1, pageToken: '' }),
      GrpcStatus.UNAVAILABLE,
    );
  });

  it('adds the configured latency before answering', async () => {
    await mock.admin.api.setFaultInjection({
      faults: {
        unavailableRatio: 0,
        addedLatency: { seconds: 0, nanos: 400_000_000 },
        outage: false,
      },
    });
    const started = Date.now();
    await mock.operatorReads.api.listNodes({ pageSize: 1, pageToken: '' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    // A caller whose deadline is shorter than the latency sees DEADLINE_EXCEEDED, as against a slow upstream.
    await expectGrpcError(
      mock.operatorReads.api.listNodes({ pageSize: 1, pageToken: '' }, { timeoutMs: 100 }),
      GrpcStatus.DEADLINE_EXCEEDED,
    );
  });

  it('rejects out-of-range fault settings', async () => {
    const error = await expectGrpcError(
      mock.admin.api.setFaultInjection({
        faults: { unavailableRatio: 1.5, addedLatency: { seconds: 61, nanos: 0 }, outage: false },
      }),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(error.status?.fieldViolations.map((v) => v.field).sort()).toEqual(
      ['faults.added_latency', 'faults.unavailable_ratio'].sort(),
    );
  });

  it('takes its initial faults from configuration and keeps data across restarts', async () => {
    const node = await registerNode();
    const second = await startMock(databaseUrl, auth, { FAULT_OUTAGE: 'true' });
    try {
      await expectGrpcError(
        second.node.api.getNode({ nodeCode: node.nodeCode }),
        GrpcStatus.UNAVAILABLE,
      );
      await second.admin.api.setFaultInjection({
        faults: { unavailableRatio: 0, addedLatency: undefined, outage: false },
      });
      const found = await second.node.api.getNode({ nodeCode: node.nodeCode });
      expect(found.node?.nodeKey).toBe(node.nodeKey);
    } finally {
      await second.stop();
    }
  });
});
