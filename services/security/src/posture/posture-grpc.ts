import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { describeError, inspectingTlsOptions, type PostureDial } from './posture-tls';

/** How a gRPC call reaches the server: over TLS (not verified), or HTTP/2 in cleartext (h2c). */
export type GrpcTransport = 'tls' | 'h2c';

/** What came back from one raw gRPC call. */
export interface GrpcCallOutcome {
  /** The server sent HTTP/2 response headers. */
  answered: boolean;
  httpStatus: number | undefined;
  /** From the headers (trailers-only answer) or the trailers. */
  grpcStatus: number | undefined;
  /** Complete, uncompressed response messages, at most the first one when `stopAfter` is 'message'. */
  messages: Buffer[];
  error: string | undefined;
}

/** gRPC's status for "no such method", which sends the reflection probe to the older API. */
export const GRPC_UNIMPLEMENTED = 12;

// Far more than any list of service names; a server streaming without end is cut off here.
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** A gRPC length-prefixed message: uncompressed flag, 4-byte big-endian length, the bytes. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/**
 * An HTTP/2 session to the exact address in `dial` (never resolved again), connected or rejected
 * within `timeoutMs`. The caller closes it.
 */
export function openSession(
  dial: PostureDial,
  authority: string,
  transport: GrpcTransport,
  timeoutMs: number,
  trustedCa: string | Buffer | undefined,
): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const scheme = transport === 'tls' ? 'https' : 'http';
    const session = http2.connect(`${scheme}://${authority}`, {
      createConnection: () =>
        transport === 'tls'
          ? tls.connect(inspectingTlsOptions(dial, trustedCa))
          : net.connect({ host: dial.address, port: dial.port }),
    });
    const fail = (error: unknown): void => {
      clearTimeout(timer);
      session.destroy();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const timer = setTimeout(
      () => fail(new Error(`no HTTP/2 session within ${timeoutMs} ms`)),
      timeoutMs,
    );
    // Stays attached for the session's life: an error after connecting must not go unhandled.
    session.on('error', fail);
    session.once('close', () => fail(new Error('the server closed the connection')));
    session.once('connect', () => {
      clearTimeout(timer);
      resolve(session);
    });
  });
}

/**
 * One gRPC call with `body` as the only request message (already framed), then half-closed.
 * Settles when the answer is enough (`stopAfter`), the stream ends, fails, or `timeoutMs` passes.
 */
export function callGrpc(
  session: http2.ClientHttp2Session,
  path: string,
  body: Buffer,
  stopAfter: 'headers' | 'message',
  timeoutMs: number,
): Promise<GrpcCallOutcome> {
  return new Promise((resolve) => {
    const outcome: GrpcCallOutcome = {
      answered: false,
      httpStatus: undefined,
      grpcStatus: undefined,
      messages: [],
      error: undefined,
    };
    let pending = Buffer.alloc(0);
    let settled = false;
    let stream: http2.ClientHttp2Stream;
    const finish = (error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome.error ??= error;
      if (!stream.closed && !stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
      resolve(outcome);
    };
    const timer = setTimeout(() => finish(`no complete answer within ${timeoutMs} ms`), timeoutMs);
    try {
      stream = session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
    } catch (error) {
      clearTimeout(timer);
      outcome.error = describeError(error);
      resolve(outcome);
      return;
    }
    const readGrpcStatus = (headers: http2.IncomingHttpHeaders): void => {
      const status = headers['grpc-status'];
      if (typeof status === 'string' && /^\d+$/.test(status)) outcome.grpcStatus = Number(status);
    };
    stream.on('response', (headers) => {
      outcome.answered = true;
      outcome.httpStatus = Number(headers[':status']);
      readGrpcStatus(headers);
      if (stopAfter === 'headers') finish();
    });
    stream.on('trailers', readGrpcStatus);
    stream.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length > MAX_RESPONSE_BYTES)
        return finish(`the answer is larger than ${MAX_RESPONSE_BYTES} bytes`);
      while (pending.length >= 5) {
        const length = pending.readUInt32BE(1);
        if (length > MAX_RESPONSE_BYTES) return finish(`a message of ${length} bytes is announced`);
        if (pending.length < 5 + length) return;
        // A compressed message cannot be read without the codec; none was offered, so none is expected.
        if (pending[0] === 0) outcome.messages.push(pending.subarray(5, 5 + length));
        pending = pending.subarray(5 + length);
        if (stopAfter === 'message') return finish();
      }
    });
    stream.on('error', (error) => finish(describeError(error)));
    stream.on('close', () => finish());
    stream.end(body);
  });
}

interface ProtoField {
  number: number;
  /** Varints and fixed-width values are not needed here and are skipped. */
  bytes: Buffer | undefined;
}

function readVarint(buffer: Buffer, offset: number): [value: number, next: number] {
  let value = 0;
  for (let i = 0; i < 10; i++) {
    const byte = buffer[offset + i];
    if (byte === undefined) throw new Error('truncated varint');
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return [value, offset + i + 1];
  }
  throw new Error('varint longer than 10 bytes');
}

/** The top-level fields of a protobuf message; throws on a malformed one. */
function readFields(buffer: Buffer): ProtoField[] {
  const fields: ProtoField[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const [key, afterKey] = readVarint(buffer, offset);
    const number = Math.floor(key / 8);
    const wireType = key % 8;
    offset = afterKey;
    if (wireType === 0) {
      offset = readVarint(buffer, offset)[1];
      fields.push({ number, bytes: undefined });
    } else if (wireType === 1 || wireType === 5) {
      offset += wireType === 1 ? 8 : 4;
      fields.push({ number, bytes: undefined });
    } else if (wireType === 2) {
      const [length, start] = readVarint(buffer, offset);
      if (start + length > buffer.length) throw new Error('truncated length-delimited field');
      fields.push({ number, bytes: buffer.subarray(start, start + length) });
      offset = start + length;
    } else {
      throw new Error(`unsupported wire type ${wireType}`);
    }
  }
  if (offset > buffer.length) throw new Error('truncated fixed-width field');
  return fields;
}

// grpc.reflection.v1(alpha).ServerReflectionRequest { string list_services = 7; } with "".
export const LIST_SERVICES_REQUEST = grpcFrame(Uint8Array.of(0x3a, 0x00));

/**
 * The service names in a ServerReflectionResponse (`list_services_response = 6`, a
 * ListServiceResponse of `repeated ServiceResponse service = 1`, each `string name = 1`), or
 * undefined when the message carries no such list (an error response, garbage).
 */
export function reflectedServiceNames(message: Buffer): string[] | undefined {
  try {
    const list = readFields(message).find(
      (field) => field.number === 6 && field.bytes !== undefined,
    );
    if (list?.bytes === undefined) return undefined;
    return readFields(list.bytes)
      .filter((field) => field.number === 1 && field.bytes !== undefined)
      .map((service) => {
        const name = readFields(service.bytes ?? Buffer.alloc(0)).find(
          (field) => field.number === 1,
        );
        return name?.bytes?.toString('utf8') ?? '';
      });
  } catch {
    return undefined;
  }
}
