import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IdentifierState } from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import { ParticipantKind } from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { eventually } from '@cinode/testing';
import { validCreditCode } from './support/fixtures';
import { SETTLE_MS, issueResourcePool, organisation, registerAndCertify } from './support/market';
import { KeyHolder, as, startNode, type NodeUnderTest } from './support/node-processes';

/**
 * Issue 7, item 8: one trace follows a demo step across the node. A provider's IssueIdentifier
 * call is served by the identifier, whose change goes through the outbox and NATS to its filing
 * consumer, which files the identifier with the national node mock: every hop is a span of the
 * same trace, exported by each service under its own name over OTLP (HTTP/JSON) to a collector
 * this test runs in-process.
 */

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
}

/** A minimal OTLP/HTTP JSON trace collector: POST /v1/traces, spans kept in memory. */
class Collector {
  readonly spans: ReceivedSpan[] = [];
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.url === '/v1/traces') this.take(Buffer.concat(chunks).toString('utf8'));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    this.server.listen(0, '127.0.0.1');
    await new Promise((resolve) => this.server?.once('listening', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private take(body: string): void {
    const request = JSON.parse(body) as {
      resourceSpans?: {
        resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
        scopeSpans?: {
          spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string }[];
        }[];
      }[];
    };
    for (const resourceSpans of request.resourceSpans ?? []) {
      const service =
        resourceSpans.resource?.attributes?.find((a) => a.key === 'service.name')?.value
          .stringValue ?? '';
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          this.spans.push({
            service,
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId ?? '',
            name: span.name,
          });
        }
      }
    }
  }
}

const collector = new Collector();
let node: NodeUnderTest;

beforeAll(async () => {
  const endpoint = await collector.start();
  node = await startNode({
    tokenTtlSeconds: 300,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
  });
}, 120_000);

afterAll(async () => {
  await node?.stop();
  await collector.stop();
});

it('follows IssueIdentifier through the outbox, NATS and the filing consumer to the national node, in one trace', async () => {
  const api = node.clients;
  const operator = new KeyHolder(api.tokens, node.operatorBootstrapKey);
  const owner = {
    name: `Trace Compute ${randomUUID().slice(0, 8)}`,
    creditCode: validCreditCode(),
  };
  const provider = await registerAndCertify(
    api,
    operator,
    organisation(ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER, owner.name, owner.creditCode),
  );
  const { accessToken } = await api.tokens.issueToken({ apiKey: provider.apiKey });
  const issued = await issueResourcePool(api, accessToken, owner, 'Traced GPU pool');
  await eventually(
    'the identifier to be filed',
    async () => {
      const { identifier } = await api.identifiers.resolveIdentifier(
        { identifier: issued.identifier },
        as(accessToken),
      );
      return identifier?.state === IdentifierState.IDENTIFIER_STATE_FILED ? identifier : undefined;
    },
    SETTLE_MS,
  );

  // The trace of the IssueIdentifier call that created it (earlier attempts may have been refused).
  // Spans arrive in batches, a parent after its children: the checks are retried until they hold.
  await eventually(
    'one trace from IssueIdentifier to the national node, without a gap',
    async () => {
      const roots = collector.spans.filter(
        (s) =>
          s.service === 'identifier' &&
          s.name === 'grpc.cinode.identifier.v1.IdentifierService/IssueIdentifier',
      );
      const trace = collector.spans.filter((s) =>
        roots.some(
          (root) =>
            root.traceId === s.traceId &&
            collector.spans.some(
              (filed) =>
                filed.traceId === root.traceId &&
                filed.service === 'national-node-mock' &&
                filed.name === 'grpc.cinode.national.v1.NationalNodeService/FileIdentifier',
            ),
        ),
      );
      expect(new Set(trace.map((s) => s.traceId)).size).toBe(1);
      // Later hops (the filed event's own consumers, the service center's among them) may join
      // the trace too; the two services of this path must be in it, each under its own name.
      const services = new Set(trace.map((s) => s.service));
      expect([...services]).toEqual(expect.arrayContaining(['identifier', 'national-node-mock']));
      expect(services.has('cinode')).toBe(false);
      // The hops: the call, the relay's publish, the consumer, the call out, its serving.
      expect(trace.map((s) => `${s.service}: ${s.name}`)).toEqual(
        expect.arrayContaining([
          'identifier: grpc.cinode.identifier.v1.IdentifierService/IssueIdentifier',
          'identifier: cinode.identifier.identifier.issued publish',
          'identifier: cinode.identifier.identifier.issued process',
          'identifier: grpc.cinode.national.v1.NationalNodeService/FileIdentifier',
          'national-node-mock: grpc.cinode.national.v1.NationalNodeService/FileIdentifier',
        ]),
      );
      // Every span but the root has its parent in the same trace: nothing was cut off.
      const ids = new Set(trace.map((s) => s.spanId));
      const orphans = trace.filter((s) => s.parentSpanId !== '' && !ids.has(s.parentSpanId));
      expect(orphans.map((s) => `${s.service}: ${s.name}`)).toEqual([]);
      return trace;
    },
    SETTLE_MS,
  );
}, 120_000);
