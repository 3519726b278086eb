import {
  Client,
  credentials,
  Metadata,
  type ChannelCredentials,
  status as GrpcStatus,
  type ServiceError,
} from '@grpc/grpc-js';
import { Reader, Writer } from 'protobufjs';

/** grpc.health.v1.HealthCheckResponse.ServingStatus */
export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

const SERVING_STATUSES: readonly ServingStatus[] = [
  'UNKNOWN',
  'SERVING',
  'NOT_SERVING',
  'SERVICE_UNKNOWN',
];
const CHECK_METHOD = '/grpc.health.v1.Health/Check';

// HealthCheckRequest { string service = 1; } and HealthCheckResponse { ServingStatus status = 1; },
// encoded by hand so a caller needs neither the .proto file nor generated code.
function encodeRequest(service: string): Buffer {
  const writer = Writer.create();
  if (service !== '') writer.uint32((1 << 3) | 2).string(service);
  return Buffer.from(writer.finish());
}

function decodeResponse(bytes: Buffer): ServingStatus {
  const reader = Reader.create(bytes);
  let status = 0;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === 0) status = reader.int32();
    else reader.skipType(tag & 7);
  }
  return SERVING_STATUSES[status] ?? 'UNKNOWN';
}

/**
 * One grpc.health.v1.Health/Check call; service '' asks about the server as a whole. Plaintext
 * unless channel credentials are given (a node running with TLS).
 */
export async function checkGrpcHealth(
  address: string,
  service = '',
  timeoutMs = 2000,
  channelCredentials: ChannelCredentials = credentials.createInsecure(),
): Promise<ServingStatus> {
  const client = new Client(address, channelCredentials);
  try {
    return await new Promise<ServingStatus>((resolve, reject) => {
      client.makeUnaryRequest(
        CHECK_METHOD,
        encodeRequest,
        decodeResponse,
        service,
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
        (error: ServiceError | null, response?: ServingStatus) => {
          if (error !== null) {
            if (error.code === GrpcStatus.NOT_FOUND) resolve('SERVICE_UNKNOWN');
            else reject(error);
          } else resolve(response ?? 'UNKNOWN');
        },
      );
    });
  } finally {
    client.close();
  }
}

export interface WaitForServingOptions {
  service?: string;
  timeoutMs?: number;
  intervalMs?: number;
  /** Stops waiting early, e.g. because the process being waited for has died. */
  signal?: AbortSignal;
  /** How to reach the server; plaintext when omitted. */
  credentials?: ChannelCredentials;
}

/** Polls Health/Check until it reports SERVING; rejects after timeoutMs with the last answer. */
export async function waitForGrpcServing(
  address: string,
  options: WaitForServingOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    options.signal?.throwIfAborted();
    try {
      const status = await checkGrpcHealth(
        address,
        options.service ?? '',
        Math.min(2000, Math.max(deadline - Date.now(), 1)),
        options.credentials,
      );
      if (status === 'SERVING') return;
      last = status;
    } catch (error: unknown) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
  throw new Error(`${address} did not report SERVING within ${timeoutMs} ms (last: ${last})`);
}
