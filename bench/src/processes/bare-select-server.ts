// Compute selection's Select with nothing around it, in a process of its own: the floor the
// selection-grpc bench prints next to the service. The same pools as the bench writes into
// aggregation's database (BARE_SELECT_POOLS of the selection-index generator, seed 8_2026, no
// security caps or quarantines, as seedPools stores them) go into an OfferIndex in this process;
// the same latency model (BARE_SELECT_LATENCY, JSON of the service's LATENCY_* settings). Each call
// on a bare node:http2 server is decoded (the generated decoder), checked (checkSelectRequest),
// searched and encoded (the service's own encoder), and answered with status 0 in the trailers:
// no grpc-js server, no authentication, no metrics, no admission, no deadline, no audit. What
// it serves is what Select's own work allows on this machine, before any of the stack's. Prints
// `listening <port>` once bound; stops on SIGTERM.
import http2 from 'node:http2';
import { seededRandom } from '@cinode/common';
import { SelectRequest } from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import {
  LatencyModel,
  OfferIndex,
  checkSelectRequest,
  encodeSelectResponse,
  parseProvinceMatrix,
  randomPool,
} from '@cinode/selection';

const pools = Number(process.env.BARE_SELECT_POOLS ?? '100000');
const settings = JSON.parse(process.env.BARE_SELECT_LATENCY ?? '{}') as Record<string, string>;
const latency = new LatencyModel({
  sameRegionMs: Number(settings.LATENCY_SAME_REGION_MS ?? 2),
  sameProvinceMs: Number(settings.LATENCY_SAME_PROVINCE_MS ?? 5),
  defaultMs: Number(settings.LATENCY_DEFAULT_MS ?? 35),
  provincePairs: parseProvinceMatrix(settings.LATENCY_PROVINCE_MATRIX ?? ''),
});

const random = seededRandom(8_2026);
const index = new OfferIndex();
for (let i = 0; i < pools; i += 1)
  index.apply({ ...randomPool(random, i), securityLevelCap: null, quarantined: false });
index.compact();

function answer(body: Buffer): Buffer {
  const request = SelectRequest.decode(body.subarray(5, 5 + body.readUInt32BE(1)));
  const { demand, weights, topK } = checkSelectRequest(
    request.demand,
    request.weights,
    request.topK,
  );
  const result = index.select(demand, weights, topK, latency);
  const message = encodeSelectResponse(result, request.demand?.durationHours ?? 0);
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

const server = http2.createServer();
server.on('stream', (stream) => {
  // A call h2load resets at the end of a round is no failure of the server's.
  stream.on('error', () => undefined);
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => {
    let reply: Buffer;
    try {
      reply = answer(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    } catch (error) {
      // h2load counts HTTP statuses only: the bench reads this line to fail the run.
      console.error(`select failed: ${(error as Error).message}`);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '13' });
      stream.end();
      return;
    }
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc' },
      { waitForTrailers: true },
    );
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(reply);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : 0}`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
