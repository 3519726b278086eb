import { readFileSync } from 'node:fs';
import { ServerCredentials } from '@grpc/grpc-js';

export interface TlsFiles {
  certFile?: string;
  keyFile?: string;
  /** When set, clients must present a certificate signed by this CA (mTLS). */
  caFile?: string;
}

/** Insecure unless a certificate and key are configured; mutual TLS when a client CA is too. */
export function serverCredentials(tls: TlsFiles): ServerCredentials {
  if (!tls.certFile && !tls.keyFile) {
    // The config refuses a client CA without a server certificate; this guards other callers.
    if (tls.caFile)
      throw new Error('GRPC_TLS_CA_FILE (mTLS) requires GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE');
    return ServerCredentials.createInsecure();
  }
  if (!tls.certFile || !tls.keyFile) {
    throw new Error('GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE must be set together');
  }
  const ca = tls.caFile ? readFileSync(tls.caFile) : null;
  return ServerCredentials.createSsl(
    ca,
    [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }],
    ca !== null,
  );
}
