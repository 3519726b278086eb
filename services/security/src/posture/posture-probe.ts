import type { X509Certificate } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import type { ClientHttp2Session } from 'node:http2';
import { isIP } from 'node:net';
import { checkServerIdentity } from 'node:tls';
import { assertUnreachable } from '@cinode/common';
import {
  GRPC_UNIMPLEMENTED,
  LIST_SERVICES_REQUEST,
  callGrpc,
  grpcFrame,
  openSession,
  reflectedServiceNames,
  type GrpcTransport,
} from './posture-grpc';
import {
  formatAuthority,
  parsePostureTarget,
  restrictedAddressKind,
  type PostureTarget,
} from './posture-target';
import {
  describeError,
  isSelfSigned,
  observeTls,
  untrustedChainReason,
  type PostureDial,
  type TlsObservation,
} from './posture-tls';

export interface PostureProbeOptions {
  /** Bound of each step: name resolution, each connection attempt, each gRPC call. */
  timeoutMs: number;
  /**
   * When false, the probe refuses targets that resolve to loopback, private, link-local,
   * unspecified, multicast or CGNAT addresses (also in IPv4-embedding IPv6 form). Every resolved
   * address is judged before any connection, and connections go to the judged address itself, so
   * a hostname cannot be re-resolved to an internal one between check and use.
   */
  allowPrivateAddresses: boolean;
  /** The clock certificates are judged against (the wall clock when absent). */
  now?: () => Date;
  /** A certificate expiring within this many days is reported. */
  expiryWarningDays: number;
  /** Extra CA certificates (PEM) trusted besides the default roots. */
  trustedCa?: string | Buffer;
}

export type PostureCheckId =
  | 'TLS_NOT_OFFERED'
  | 'TLS_VERSION_OUTDATED'
  | 'CERT_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'CERT_EXPIRING_SOON'
  | 'CERT_UNTRUSTED'
  | 'CERT_HOSTNAME_MISMATCH'
  | 'PLAINTEXT_EXPOSED'
  | 'REFLECTION_EXPOSED';

export type PostureSeverity = 'low' | 'medium' | 'high' | 'critical';

export interface PostureIssue {
  check: PostureCheckId;
  severity: PostureSeverity;
  message: string;
}

export interface PostureResult {
  /** The address as given. */
  target: string;
  /** Whether a TCP connection to the target was made. */
  reachable: boolean;
  /**
   * Why the target could not be checked: unreachable, unresolvable, invalid or refused by policy
   * (then `reachable` is false and there are no issues). Also set when the target was reachable
   * but no TLS handshake completed for a reason the issues do not explain (a TLS alert, a server
   * closing at once), so that an empty issue list is not mistaken for a pass.
   */
  error?: string;
  /** The negotiated TLS version, e.g. 'TLSv1.3'. */
  tlsVersion?: string;
  certificate?: {
    subject: string;
    issuer: string;
    validFrom: Date;
    validTo: Date;
    fingerprintSha256: string;
    selfSigned: boolean;
  };
  /** Most severe first, then by check id; empty when every check passed. */
  issues: PostureIssue[];
  checkedAt: Date;
  durationMs: number;
}

const SEVERITY_ORDER: Record<PostureSeverity, number> = { critical: 0, high: 1, medium: 2, low: 3 };
const OUTDATED_TLS_VERSIONS = new Set(['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1']);
const DAY_MS = 24 * 60 * 60 * 1000;
// DNS can hand out many addresses; each unanswered one costs a timeout.
const MAX_ADDRESSES_TRIED = 3;

const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';
const REFLECTION_PATHS = [
  '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
  '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
];

/**
 * Checks one registered endpoint the way a security operator would: its TLS (version,
 * certificate dates, chain, hostname), whether its gRPC surface answers without TLS, and whether
 * it lists its services through server reflection. Never throws: an endpoint that cannot be
 * checked yields `reachable: false` with the reason.
 */
export async function probeEndpoint(
  address: string,
  options: PostureProbeOptions,
): Promise<PostureResult> {
  const started = Date.now();
  try {
    return await probe(address, options, started);
  } catch (error) {
    // Every network failure is caught where it happens; this is for what a hostile server might
    // still provoke (an unreadable certificate, say), so one endpoint never fails a whole round.
    return {
      target: address,
      reachable: false,
      error: `the probe failed: ${describeError(error)}`,
      issues: [],
      checkedAt: options.now?.() ?? new Date(),
      durationMs: Date.now() - started,
    };
  }
}

async function probe(
  address: string,
  options: PostureProbeOptions,
  started: number,
): Promise<PostureResult> {
  const checkedAt = options.now?.() ?? new Date();
  const finish = (
    result: Omit<PostureResult, 'target' | 'checkedAt' | 'durationMs'>,
  ): PostureResult => ({
    target: address,
    ...result,
    issues: sortIssues(result.issues),
    checkedAt,
    durationMs: Date.now() - started,
  });
  const unreachable = (error: string): PostureResult =>
    finish({ reachable: false, error, issues: [] });

  let target: PostureTarget;
  try {
    target = parsePostureTarget(address);
  } catch (error) {
    return unreachable(describeError(error));
  }

  let addresses: string[];
  try {
    addresses = await resolve(target.host, options.timeoutMs);
  } catch (error) {
    return unreachable(`cannot resolve ${target.host}: ${describeError(error)}`);
  }
  if (!options.allowPrivateAddresses) {
    for (const resolved of addresses) {
      const kind = restrictedAddressKind(resolved);
      if (kind !== undefined) {
        const via = resolved === target.host ? '' : ` (${target.host} resolves to it)`;
        return unreachable(`refused by policy: ${resolved} is a ${kind} address${via}`);
      }
    }
  }

  const servername = isIP(target.host) === 0 ? target.host : undefined;
  let dial: PostureDial | undefined;
  let tlsSeen: Exclude<TlsObservation, { kind: 'unreachable' }> | undefined;
  const failures: string[] = [];
  for (const resolved of addresses.slice(0, MAX_ADDRESSES_TRIED)) {
    const candidate: PostureDial = { address: resolved, port: target.port, servername };
    const observation = await observeTls(candidate, options.timeoutMs, options.trustedCa);
    if (observation.kind === 'unreachable') {
      failures.push(`${formatAuthority(resolved, target.port)}: ${observation.error}`);
      continue;
    }
    dial = candidate;
    tlsSeen = observation;
    break;
  }
  if (dial === undefined || tlsSeen === undefined)
    return unreachable(`cannot connect: ${failures.join('; ')}`);

  const authority = formatAuthority(target.host, target.port);
  const plaintextAnswered = await answersWithoutTls(dial, authority, options);
  const issues: PostureIssue[] = [];
  let error: string | undefined;
  let tlsVersion: string | undefined;
  let certificate: PostureResult['certificate'];
  switch (tlsSeen.kind) {
    case 'handshake':
      tlsVersion = tlsSeen.protocol;
      certificate =
        tlsSeen.chain[0] === undefined ? undefined : describeCertificate(tlsSeen.chain[0]);
      issues.push(...judgeTls(tlsSeen, target, options, checkedAt));
      break;
    case 'not-tls':
      issues.push(
        tlsNotOffered(
          `the server answered a TLS handshake with something other than TLS (${tlsSeen.error})`,
        ),
      );
      break;
    case 'tls-failed':
    case 'no-answer':
      // A server that just hangs up is only known to lack TLS when it answers in cleartext.
      if (plaintextAnswered)
        issues.push(tlsNotOffered(`no TLS handshake completed (${tlsSeen.error})`));
      else error = `no TLS handshake completed: ${tlsSeen.error}`;
      break;
    default:
      assertUnreachable(tlsSeen, 'TLS observation');
  }
  if (plaintextAnswered) {
    issues.push({
      check: 'PLAINTEXT_EXPOSED',
      severity: 'critical',
      message: `the gRPC endpoint answers over cleartext HTTP/2 (h2c) at ${authority}: calls and credentials can be read and altered on the way`,
    });
  }

  const transports: GrpcTransport[] = [];
  if (tlsSeen.kind === 'handshake') transports.push('tls');
  if (plaintextAnswered) transports.push('h2c');
  const reflection = await reflectionExposure(dial, authority, transports, options);
  if (reflection !== undefined) issues.push(reflection);

  return finish({
    reachable: true,
    ...(error === undefined ? {} : { error }),
    ...(tlsVersion === undefined ? {} : { tlsVersion }),
    ...(certificate === undefined ? {} : { certificate }),
    issues,
  });
}

async function resolve(host: string, timeoutMs: number): Promise<string[]> {
  if (isIP(host) !== 0) return [host];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const found = await Promise.race([lookup(host, { all: true, verbatim: true }), timeout]);
    if (found.length === 0) throw new Error('no addresses');
    return found.map((entry) => entry.address);
  } finally {
    clearTimeout(timer);
  }
}

function tlsNotOffered(message: string): PostureIssue {
  return { check: 'TLS_NOT_OFFERED', severity: 'high', message };
}

function describeCertificate(
  certificate: X509Certificate,
): NonNullable<PostureResult['certificate']> {
  return {
    subject: distinguishedName(certificate.subject),
    issuer: distinguishedName(certificate.issuer),
    validFrom: new Date(certificate.validFrom),
    validTo: new Date(certificate.validTo),
    fingerprintSha256: certificate.fingerprint256,
    selfSigned: isSelfSigned(certificate),
  };
}

/** Node gives one attribute per line ("CN=a\nO=b"); one line reads better in a result. */
function distinguishedName(multiline: string): string {
  return multiline.split('\n').filter(Boolean).join(', ');
}

const DATE_ERRORS = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

function judgeTls(
  observation: Extract<TlsObservation, { kind: 'handshake' }>,
  target: PostureTarget,
  options: PostureProbeOptions,
  now: Date,
): PostureIssue[] {
  const issues: PostureIssue[] = [];
  const version = observation.protocol ?? 'an unknown version';
  if (OUTDATED_TLS_VERSIONS.has(version)) {
    issues.push({
      check: 'TLS_VERSION_OUTDATED',
      severity: 'high',
      message: `the server negotiates ${version}; TLSv1.2 or later is required`,
    });
  }

  const leaf = observation.chain[0];
  if (leaf === undefined || observation.peer === undefined) {
    issues.push({
      check: 'CERT_UNTRUSTED',
      severity: 'high',
      message: 'the server presented no certificate',
    });
    return issues;
  }
  const validFrom = new Date(leaf.validFrom);
  const validTo = new Date(leaf.validTo);
  if (validTo < now) {
    issues.push({
      check: 'CERT_EXPIRED',
      severity: 'critical',
      message: `the certificate expired on ${validTo.toISOString()}`,
    });
  } else if (validFrom > now) {
    issues.push({
      check: 'CERT_NOT_YET_VALID',
      severity: 'high',
      message: `the certificate is not valid before ${validFrom.toISOString()}`,
    });
  } else if (validTo.getTime() - now.getTime() < options.expiryWarningDays * DAY_MS) {
    const days = Math.floor((validTo.getTime() - now.getTime()) / DAY_MS);
    issues.push({
      check: 'CERT_EXPIRING_SOON',
      severity: 'medium',
      message: `the certificate expires on ${validTo.toISOString()}, in ${days} day(s) (warning from ${options.expiryWarningDays})`,
    });
  }

  const verdict = observation.authorizationError;
  const untrusted =
    verdict === undefined
      ? undefined
      : DATE_ERRORS.has(verdict)
        ? untrustedChainReason(observation.chain, options.trustedCa, now)
        : verdict;
  if (untrusted !== undefined) {
    issues.push({
      check: 'CERT_UNTRUSTED',
      severity: 'high',
      message: `the certificate chain is not trusted: ${untrusted}${isSelfSigned(leaf) ? ' (self-signed)' : ''}`,
    });
  }

  if (isIP(target.host) === 0) {
    const mismatch = checkServerIdentity(target.host, observation.peer);
    if (mismatch !== undefined) {
      issues.push({ check: 'CERT_HOSTNAME_MISMATCH', severity: 'high', message: mismatch.message });
    }
  }
  return issues;
}

/** Whether a gRPC health check over h2c gets any HTTP/2 answer. */
async function answersWithoutTls(
  dial: PostureDial,
  authority: string,
  options: PostureProbeOptions,
): Promise<boolean> {
  let session: ClientHttp2Session | undefined;
  try {
    session = await openSession(dial, authority, 'h2c', options.timeoutMs, undefined);
    const outcome = await callGrpc(
      session,
      HEALTH_CHECK_PATH,
      grpcFrame(new Uint8Array()),
      'headers',
      options.timeoutMs,
    );
    return outcome.answered;
  } catch {
    return false;
  } finally {
    session?.destroy();
  }
}

/**
 * Asks for the list of services through server reflection (v1, then v1alpha) over the transports
 * that answered, TLS first; stops at the first transport where a reflection call got an answer.
 */
async function reflectionExposure(
  dial: PostureDial,
  authority: string,
  transports: readonly GrpcTransport[],
  options: PostureProbeOptions,
): Promise<PostureIssue | undefined> {
  for (const transport of transports) {
    let session: ClientHttp2Session | undefined;
    let answered = false;
    try {
      session = await openSession(dial, authority, transport, options.timeoutMs, options.trustedCa);
      for (const path of REFLECTION_PATHS) {
        const outcome = await callGrpc(
          session,
          path,
          LIST_SERVICES_REQUEST,
          'message',
          options.timeoutMs,
        );
        answered ||= outcome.answered;
        const first = outcome.messages[0];
        const names = first === undefined ? undefined : reflectedServiceNames(first);
        if (names !== undefined) {
          const api = path.split('/')[1]?.replace(/\.ServerReflection$/, '') ?? 'reflection';
          const shown = names.slice(0, 10).join(', ') + (names.length > 10 ? ', ...' : '');
          return {
            check: 'REFLECTION_EXPOSED',
            severity: 'medium',
            message: `server reflection (${api}, over ${transport}) lists ${names.length} service(s) to any caller: ${shown}`,
          };
        }
        if (outcome.grpcStatus !== GRPC_UNIMPLEMENTED) break;
      }
    } catch {
      // No session on this transport: try the next.
    } finally {
      session?.destroy();
    }
    if (answered) return undefined;
  }
  return undefined;
}

function sortIssues(issues: readonly PostureIssue[]): PostureIssue[] {
  return [...issues].sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      (a.check < b.check ? -1 : a.check > b.check ? 1 : 0),
  );
}
