import { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';

/** One resolved address of the target, dialled as is; `servername` is the hostname for SNI. */
export interface PostureDial {
  address: string;
  port: number;
  servername: string | undefined;
}

// One context per set of trusted CAs: building one parses every root certificate, which is too
// costly to repeat for each connection (and many live contexts make process exit crawl).
let inspectingContext: { trustedCa: string | undefined; context: tls.SecureContext } | undefined;

function secureContextFor(trustedCa: string | Buffer | undefined): tls.SecureContext {
  const key = trustedCa?.toString();
  if (inspectingContext === undefined || inspectingContext.trustedCa !== key) {
    inspectingContext = {
      trustedCa: key,
      context: tls.createSecureContext({
        // Versions down to TLSv1 and OpenSSL's security level 0, so that an outdated server still
        // completes a handshake and can be reported instead of just failing.
        minVersion: 'TLSv1',
        ciphers: 'DEFAULT@SECLEVEL=0',
        // `ca` replaces the default roots, so extra CAs come with them.
        ...(key === undefined ? {} : { ca: [...tls.rootCertificates, key] }),
      }),
    };
  }
  return inspectingContext.context;
}

/**
 * TLS options for looking at a server rather than trusting it: nothing is verified on connect
 * (it is judged afterwards from what the handshake showed).
 */
export function inspectingTlsOptions(
  dial: PostureDial,
  trustedCa: string | Buffer | undefined,
): tls.ConnectionOptions {
  return {
    host: dial.address,
    port: dial.port,
    servername: dial.servername,
    ALPNProtocols: ['h2'],
    secureContext: secureContextFor(trustedCa),
    rejectUnauthorized: false,
    // The hostname is judged separately (and only for hostname targets), so `authorized` reflects
    // the chain alone.
    checkServerIdentity: () => undefined,
  };
}

export type TlsObservation =
  | {
      kind: 'handshake';
      protocol: string | undefined;
      /** Undefined when the server presented no certificate. */
      peer: tls.DetailedPeerCertificate | undefined;
      /** Leaf first, then what the server sent or the local store completed. */
      chain: X509Certificate[];
      /** OpenSSL's verdict on the chain, undefined when it verified. */
      authorizationError: string | undefined;
    }
  /** The server answered with bytes that are not a TLS record. */
  | { kind: 'not-tls'; error: string }
  /** The server answered with TLS but the handshake failed (an alert, say). */
  | { kind: 'tls-failed'; error: string }
  /** TCP connected, then the server closed or said nothing within the timeout. */
  | { kind: 'no-answer'; error: string }
  | { kind: 'unreachable'; error: string };

// OpenSSL's words for "the first bytes back were not a TLS record header".
const NOT_TLS_CODES = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_HTTP_REQUEST',
  'ERR_SSL_HTTPS_PROXY_REQUEST',
  'ERR_SSL_RECORD_LAYER_FAILURE',
]);

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function errorMessage(error: unknown): string | undefined {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : undefined;
}

/**
 * One line for a result. Errors are read by shape, not `instanceof` (errors made by Node's
 * internals fail it under Jest's sandbox); OpenSSL's own text ("80CC...:error:0A00010B:SSL
 * routines:...") says no more than its code.
 */
export function describeError(error: unknown): string {
  const code = errorCode(error);
  if (code?.startsWith('ERR_SSL_') === true) return code;
  const message = (errorMessage(error) ?? String(error)).split('\n')[0] ?? '';
  return code === undefined || message.includes(code) ? message : `${code}: ${message}`;
}

/** One TLS handshake with `dial`; always settles, always destroys its socket. */
export function observeTls(
  dial: PostureDial,
  timeoutMs: number,
  trustedCa: string | Buffer | undefined,
): Promise<TlsObservation> {
  return new Promise((resolve) => {
    let tcpConnected = false;
    let settled = false;
    const socket = tls.connect(inspectingTlsOptions(dial, trustedCa));
    const finish = (observation: TlsObservation): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(observation);
    };
    const timer = setTimeout(() => {
      const error = `no answer within ${timeoutMs} ms`;
      finish(
        tcpConnected
          ? { kind: 'no-answer', error: `TLS handshake: ${error}` }
          : { kind: 'unreachable', error },
      );
    }, timeoutMs);

    socket.once('connect', () => (tcpConnected = true));
    socket.once('secureConnect', () => {
      try {
        finish(handshakeObservation(socket));
      } catch (error) {
        finish({ kind: 'tls-failed', error: `unreadable handshake: ${describeError(error)}` });
      }
    });
    socket.on('error', (error) => {
      const code = errorCode(error);
      const description = describeError(error);
      if (!tcpConnected) finish({ kind: 'unreachable', error: description });
      else if (code !== undefined && NOT_TLS_CODES.has(code))
        finish({ kind: 'not-tls', error: description });
      else if (code?.startsWith('ERR_SSL_') === true)
        finish({ kind: 'tls-failed', error: description });
      else finish({ kind: 'no-answer', error: `TLS handshake: ${description}` });
    });
    socket.once('close', () =>
      finish({ kind: 'no-answer', error: 'TLS handshake: the server closed the connection' }),
    );
  });
}

function handshakeObservation(socket: tls.TLSSocket): TlsObservation {
  const peer = socket.getPeerCertificate(true);
  const hasPeer = Buffer.isBuffer(peer.raw);
  // Typed as an Error, but Node sets OpenSSL's code as a string (e.g. 'CERT_HAS_EXPIRED').
  const authorizationError: unknown = socket.authorizationError;
  return {
    kind: 'handshake',
    protocol: socket.getProtocol() ?? undefined,
    peer: hasPeer ? peer : undefined,
    chain: hasPeer ? certificateChain(peer) : [],
    authorizationError: socket.authorized
      ? undefined
      : typeof authorizationError === 'string'
        ? authorizationError
        : describeError(authorizationError),
  };
}

function certificateChain(leaf: tls.DetailedPeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let current: tls.DetailedPeerCertificate | undefined = leaf;
  // A self-signed root is its own issuer; the bound also stops a hostile server's long chain.
  while (current !== undefined && Buffer.isBuffer(current.raw) && chain.length < 10) {
    const certificate = new X509Certificate(current.raw);
    if (seen.has(certificate.fingerprint256)) break;
    seen.add(certificate.fingerprint256);
    chain.push(certificate);
    current = current.issuerCertificate;
  }
  return chain;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
let systemRoots: X509Certificate[] | undefined;

function trustAnchors(trustedCa: string | Buffer | undefined): X509Certificate[] {
  systemRoots ??= tls.rootCertificates.map((pem) => new X509Certificate(pem));
  const extra = trustedCa === undefined ? [] : (trustedCa.toString().match(PEM_CERTIFICATE) ?? []);
  return [...systemRoots, ...extra.map((pem) => new X509Certificate(pem))];
}

function validAt(certificate: X509Certificate, at: Date): boolean {
  return new Date(certificate.validFrom) <= at && at <= new Date(certificate.validTo);
}

/**
 * Whether `chain` leads from its leaf to a trust anchor by signatures, with every issuer on the
 * way valid at `at` (the leaf's own dates are judged elsewhere); a reason when it does not.
 *
 * OpenSSL reports one verification error, the last one it met, and it checks dates last: an expired
 * self-signed certificate comes back as CERT_HAS_EXPIRED alone. This answers the question the
 * date error hid. It is not a full path validation (no name constraints, key usage, path length),
 * so it is only asked when OpenSSL's own verdict is a date error.
 */
export function untrustedChainReason(
  chain: readonly X509Certificate[],
  trustedCa: string | Buffer | undefined,
  at: Date,
): string | undefined {
  const anchors = trustAnchors(trustedCa);
  const isAnchor = (certificate: X509Certificate): boolean =>
    anchors.some((anchor) => anchor.fingerprint256 === certificate.fingerprint256);
  // Not X509Certificate.checkIssued: OpenSSL's check also weighs key usage and dates, and a date
  // problem is exactly what this must look past.
  const signs = (issuer: X509Certificate, subject: X509Certificate): boolean =>
    issuer.subject === subject.issuer && subject.verify(issuer.publicKey);

  let current: X509Certificate | undefined = chain[0];
  for (let depth = 0; current !== undefined && depth < chain.length; depth++) {
    if (depth > 0 && !validAt(current, at))
      return `issuer certificate ${current.subject} is outside its validity period`;
    if (isAnchor(current)) return undefined;
    const subject: X509Certificate = current;
    if (anchors.some((anchor) => signs(anchor, subject))) return undefined;
    current = chain.find(
      (candidate) =>
        candidate.ca &&
        candidate.fingerprint256 !== subject.fingerprint256 &&
        signs(candidate, subject),
    );
  }
  return 'the chain does not lead to a trusted certificate authority';
}

/** Whether the certificate names itself as issuer and its own key verifies its signature. */
export function isSelfSigned(certificate: X509Certificate): boolean {
  return certificate.subject === certificate.issuer && certificate.verify(certificate.publicKey);
}
