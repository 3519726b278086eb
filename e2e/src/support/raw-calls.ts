// Calls of any RPC of the node as raw bytes, whatever its streaming shape: for the tests that sweep
// every RPC (the authorization matrix, the audit trail's completeness).
import { Client, Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { decodeRichStatus } from '@cinode/grpc';
import type { Rpc } from './hostile-messages';

const CALL_DEADLINE_MS = 10_000;

export interface Outcome {
  code: GrpcStatus;
  reason: string;
  details: string;
}

function outcomeOf(error: ServiceError | null | undefined): Outcome {
  if (!error) return { code: GrpcStatus.OK, reason: '', details: '' };
  return {
    code: error.code,
    reason: decodeRichStatus(error)?.errorInfo?.reason ?? '',
    details: error.details,
  };
}

/** One call with an empty request, whatever the RPC's streaming shape. */
export function callWithEmptyRequest(client: Client, rpc: Rpc, token: string): Promise<Outcome> {
  const metadata = new Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  const options = { deadline: Date.now() + CALL_DEADLINE_MS };
  const identity = (bytes: Buffer) => bytes;
  const empty = Buffer.alloc(0);
  return new Promise((resolve) => {
    if (!rpc.requestStream && !rpc.responseStream) {
      client.makeUnaryRequest(rpc.path, identity, identity, empty, metadata, options, (error) =>
        resolve(outcomeOf(error)),
      );
    } else if (!rpc.requestStream) {
      // A feed may run for ever: its first message shows the caller was let in.
      const stream = client.makeServerStreamRequest(
        rpc.path,
        identity,
        identity,
        empty,
        metadata,
        options,
      );
      stream.on('data', () => {
        resolve({ code: GrpcStatus.OK, reason: '', details: 'streaming' });
        stream.cancel();
      });
      stream.on('error', (error: ServiceError) => resolve(outcomeOf(error)));
      stream.on('end', () => resolve({ code: GrpcStatus.OK, reason: '', details: '' }));
    } else {
      const stream = rpc.responseStream
        ? client.makeBidiStreamRequest(rpc.path, identity, identity, metadata, options)
        : client.makeClientStreamRequest(rpc.path, identity, identity, metadata, options, (e) =>
            resolve(outcomeOf(e)),
          );
      if (rpc.responseStream) {
        stream.on('data', () => resolve({ code: GrpcStatus.OK, reason: '', details: '' }));
        stream.on('error', (error: ServiceError) => resolve(outcomeOf(error)));
        stream.on('end', () => resolve({ code: GrpcStatus.OK, reason: '', details: '' }));
      }
      stream.end();
    }
  });
}
