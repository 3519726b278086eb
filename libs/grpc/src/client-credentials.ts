import { readFileSync } from 'node:fs';
import { ChannelCredentials, credentials } from '@grpc/grpc-js';
import type { ClientTransport } from '@cinode/config';

/**
 * grpc-js channel credentials for a transport from the config (grpcClientTransport,
 * peerClientTransport): plaintext only when the transport says so; otherwise TLS verified with the
 * CA file (the system's CAs without one), presenting the certificate and key when set (mTLS). The
 * files are read now, at start-up, and a bad one fails here, not at the first call.
 */
export function clientCredentials(transport: ClientTransport): ChannelCredentials {
  if (!transport.tls) return credentials.createInsecure();
  const ca = readPem(transport.caFile, 'CA certificate');
  const cert = readPem(transport.certFile, 'client certificate');
  const key = readPem(transport.keyFile, 'client key');
  if ((cert === null) !== (key === null)) {
    throw new Error('a client certificate needs its key and a key its certificate');
  }
  try {
    return credentials.createSsl(ca, key, cert);
  } catch (error) {
    const files = [transport.caFile, transport.certFile, transport.keyFile].filter(Boolean);
    throw new Error(
      `TLS client credentials from ${files.join(', ') || 'the system CAs'}: ${(error as Error).message}`,
    );
  }
}

function readPem(file: string | undefined, what: string): Buffer | null {
  if (file === undefined) return null;
  try {
    return readFileSync(file);
  } catch (error) {
    throw new Error(`cannot read the ${what} ${file}: ${(error as Error).message}`);
  }
}
