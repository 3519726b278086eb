import {
  credentials,
  Metadata,
  status as GrpcStatus,
  type ChannelCredentials,
} from '@grpc/grpc-js';
import { decodeRichStatus, isGrpcError, type DecodedStatus } from '@cinode/grpc';

/** Metadata carrying a bearer token. */
export function bearer(token: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

export interface ExpectedGrpcError {
  code: GrpcStatus;
  details: string;
  status: DecodedStatus | undefined;
}

/** Awaits a call that must fail with the given status code and returns what the client saw. */
export async function expectGrpcError(
  call: Promise<unknown>,
  code: GrpcStatus,
): Promise<ExpectedGrpcError> {
  let outcome: unknown;
  try {
    outcome = await call;
  } catch (error) {
    if (!isGrpcError(error)) throw error;
    if (error.code !== code) {
      throw new Error(
        `expected ${GrpcStatus[code]} but got ${GrpcStatus[error.code]}: ${error.details}`,
      );
    }
    return { code: error.code, details: error.details, status: decodeRichStatus(error) };
  }
  throw new Error(
    `expected ${GrpcStatus[code]} but the call succeeded with ${JSON.stringify(outcome)}`,
  );
}

/** Plaintext channel credentials, for tests of services that serve without TLS. */
export function plaintext(): ChannelCredentials {
  return credentials.createInsecure();
}
