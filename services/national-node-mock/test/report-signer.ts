import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { reportSigningMessage } from '@cinode/contracts';
import { fromTimestamp, type GrpcClient } from '@cinode/grpc';
import type {
  NationalNodeServiceClient,
  SubmitReportRequest,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';

export type UnsignedReport = Omit<SubmitReportRequest, 'signature' | 'signingKeyId'>;

/** A node's report-signing key pair, registered with the mock. */
export interface TestSigner {
  keyId: string;
  publicKey: Buffer;
  privateKey: KeyObject;
  /** The request with an Ed25519 signature of its envelope and payload. */
  sign(report: UnsignedReport): SubmitReportRequest;
}

export function rawPublicKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url');
}

export function signatureOf(report: UnsignedReport, privateKey: KeyObject): Buffer {
  const message = reportSigningMessage({
    reportId: report.reportId,
    nodeCode: report.nodeCode,
    kind: report.kind,
    specialRequestId: report.specialRequestId,
    periodStart: fromTimestamp(report.periodStart!),
    periodEnd: fromTimestamp(report.periodEnd!),
    generatedAt: fromTimestamp(report.generatedAt!),
    schemaVersion: report.schemaVersion,
    contentType: report.contentType,
    payloadSha256: createHash('sha256').update(report.payload).digest('hex'),
  });
  return sign(null, message, privateKey);
}

export async function registerSigner(
  client: GrpcClient<NationalNodeServiceClient>,
  nodeCode: string,
): Promise<TestSigner> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = rawPublicKey(publicKey);
  const { key } = await client.api.registerReportSigningKey({ nodeCode, publicKey: raw });
  const keyId = key!.keyId;
  return {
    keyId,
    publicKey: raw,
    privateKey,
    sign: (report) => ({
      ...report,
      signature: signatureOf(report, privateKey),
      signingKeyId: keyId,
    }),
  };
}
