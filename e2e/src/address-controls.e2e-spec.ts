import http2 from 'node:http2';
import net from 'node:net';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { checkGrpcHealth } from '@cinode/local-infra';
import { decodeRichStatus } from '@cinode/grpc';
import { nodeRpcs } from './support/hostile-messages';
import { startNode, type NodeUnderTest } from './support/node-processes';

/**
 * Issue 10: a deny-listed address gets PERMISSION_DENIED on every external surface. The whole node
 * runs with GRPC_DENY_CIDRS=127.0.0.2/32; its services reach each other from 127.0.0.1 as usual.
 * Every RPC of every service (the audit trail's on each) is called from 127.0.0.2 — another
 * loopback address, bound as the connection's local address — with an operator's token: each is
 * refused PERMISSION_DENIED, reason ADDRESS_DENIED, before anything else is looked at. The same
 * calls from 127.0.0.1 are not refused for their address, and every service stays SERVING.
 */
const DENIED = '127.0.0.2';
const AUDIT_SERVICE = 'cinode.audit.v1.AuditService';

let node: NodeUnderTest;

beforeAll(async () => {
  node = await startNode({ tokenTtlSeconds: 300, env: { GRPC_DENY_CIDRS: `${DENIED}/32` } });
}, 120_000);

afterAll(async () => {
  await node?.stop();
});

interface Answer {
  code: number;
  reason: string;
}

/** One call from `localAddress` with an empty request, read as a gRPC client would. */
function callFrom(
  localAddress: string,
  address: string,
  path: string,
  token: string,
): Promise<Answer> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    address.slice(address.lastIndexOf(':') + 1),
  ];
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${address}`, {
      createConnection: () => net.connect({ host, port: Number(port), localAddress }),
    });
    session.on('error', reject);
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      authorization: `Bearer ${token}`,
      'grpc-timeout': '10S',
    });
    const answer: Answer = { code: -1, reason: '' };
    const read = (headers: http2.IncomingHttpHeaders) => {
      if (headers['grpc-status'] === undefined) return;
      answer.code = Number(headers['grpc-status']);
      const details = headers['grpc-status-details-bin'];
      if (typeof details === 'string') {
        const metadata = new Metadata();
        metadata.set('grpc-status-details-bin', Buffer.from(details, 'base64'));
        answer.reason = decodeRichStatus({ metadata })?.errorInfo?.reason ?? '';
      }
    };
    stream.on('response', read);
    stream.on('trailers', read);
    stream.on('data', () => undefined);
    stream.on('error', reject);
    stream.on('close', () => {
      session.close();
      resolve(answer);
    });
    // An empty message: flag 0, length 0.
    stream.end(Buffer.alloc(5));
  });
}

it('refuses every RPC of every service from a deny-listed address, and only from it', async () => {
  const services = node.serviceAddresses();
  const nationalAddress = services.get('national-node-mock');
  const operator = await node.auth.token(['operator'], 'op-deny');
  const nationalOperator = await node.nationalToken(['operator']);
  const endpoints = nodeRpcs().flatMap((rpc) =>
    rpc.service === AUDIT_SERVICE
      ? [...services.values()].map((address) => ({ path: rpc.path, address }))
      : [{ path: rpc.path, address: node.addressOf(rpc.service) }],
  );
  const wrong: string[] = [];
  for (const { path, address } of endpoints) {
    const token = address === nationalAddress ? nationalOperator : operator;
    const denied = await callFrom(DENIED, address, path, token);
    if (denied.code !== Number(GrpcStatus.PERMISSION_DENIED) || denied.reason !== 'ADDRESS_DENIED')
      wrong.push(
        `${path} on ${address} from ${DENIED}: ${GrpcStatus[denied.code]} ${denied.reason}`,
      );
    const allowed = await callFrom('127.0.0.1', address, path, token);
    if (allowed.reason === 'ADDRESS_DENIED' || allowed.code === -1)
      wrong.push(
        `${path} on ${address} from 127.0.0.1: ${GrpcStatus[allowed.code]} ${allowed.reason}`,
      );
  }
  expect(endpoints.length).toBeGreaterThan(70);
  expect(wrong).toEqual([]);
  for (const address of services.values())
    await expect(checkGrpcHealth(address)).resolves.toBe('SERVING');
}, 300_000);
