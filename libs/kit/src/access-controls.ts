import { type BlockList, isIP } from 'node:net';
import { addressOfPeer, normalizeAddress } from '@cinode/grpc';
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Caller, Role } from '@cinode/auth';
import {
  PermissionDeniedError,
  ResourceExhaustedError,
  UnavailableError,
  type DomainError,
} from '@cinode/common';
import { parseCidrs } from '@cinode/config';
import { callsShed } from '@cinode/telemetry';
import { rpcLabelOf } from './load-shedder';
import { QuarantineList } from './quarantine-list';

export interface AccessControlOptions {
  /** Addresses and CIDR ranges (v4 and v6) refused on this service's gRPC surface. */
  denyCidrs: readonly string[];
  /** When not empty, only these addresses and ranges are served. */
  allowCidrs: readonly string[];
  /** Calls per second each participant (tenant) may make; 0: no limit. */
  participantRatePerSecond: number;
  /** Calls a participant may make at once above the rate (the bucket's size). */
  participantBurst: number;
  /**
   * Serve participants while the quarantine list has not been read once (NATS away at start):
   * GRPC_QUARANTINE_UNREAD=serve. Unset or false, they are refused UNAVAILABLE until it is, so a
   * quarantined participant cannot get in through a restart during a NATS outage.
   */
  serveWhileQuarantineUnread?: boolean;
}

export const ACCESS_CONTROL_OPTIONS = Symbol('ACCESS_CONTROL_OPTIONS');

/**
 * The roles rate-limited per participant and refused while quarantined: the node's own services,
 * operators, regulators and the national node are not.
 */
const PARTICIPANT_ROLES: ReadonlySet<Role> = new Set<Role>([
  'provider',
  'reseller',
  'user',
  'application_provider',
  'line_provider',
]);

/** Roles a quarantine never refuses, whatever other roles the token carries. */
const NEVER_QUARANTINED: ReadonlySet<Role> = new Set<Role>([
  'operator',
  'regulator',
  'national_node',
  'service',
]);

/** Participants whose buckets are kept; beyond it the longest-idle ones are dropped (they are full). */
const MAX_BUCKETS = 100_000;

/** What a call tells about its connection (grpc-js server calls). */
export interface PeerCarrier {
  getPath?(): string;
  getPeer?(): string;
  getConnectionInfo?(): { remoteAddress?: string };
}

/**
 * The caller's address without its port, canonical (IPv4-mapped v6 as v4); undefined when the
 * transport does not say. grpc-js writes peers `${address}:${port}` with IPv6 unbracketed, so the
 * port is cut first (addressOfPeer): read whole, "2001:db8::bad:5555" is itself an IPv6 address.
 */
export function peerAddress(call: PeerCarrier): string | undefined {
  const fromInfo = call.getConnectionInfo?.().remoteAddress;
  if (fromInfo) return normalizeAddress(fromInfo);
  const peer = call.getPeer?.();
  if (!peer || peer === 'unknown') return undefined;
  return normalizeAddress(addressOfPeer(peer));
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * The controls every service enforces on its gRPC surface, in the shared call pipeline (never per
 * service): the address allow and deny lists, checked first (a refused address learns nothing
 * else: PERMISSION_DENIED, reason ADDRESS_DENIED), and a rate limit per participant (a token
 * bucket per tenant of a participant role: RESOURCE_EXHAUSTED, reason RATE_LIMITED, with when to
 * retry). Buckets are per replica: N replicas let a participant make N times the rate at most.
 * In a service with events, a participant the security service quarantined (QuarantineList) is
 * refused too: PERMISSION_DENIED, reason PARTICIPANT_QUARANTINED.
 */
@Injectable()
export class AccessControls {
  private readonly deny: BlockList | undefined;
  private readonly allow: BlockList | undefined;
  private readonly rate: number;
  private readonly burst: number;
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    @Inject(ACCESS_CONTROL_OPTIONS) options: AccessControlOptions,
    @Optional() private readonly quarantine?: QuarantineList,
  ) {
    const deny = parseCidrs(options.denyCidrs);
    const allow = parseCidrs(options.allowCidrs);
    const invalid = [...deny.invalid, ...allow.invalid];
    if (invalid.length > 0) throw new Error(`not an address or CIDR range: ${invalid.join(', ')}`);
    this.deny = options.denyCidrs.some((e) => e.trim() !== '') ? deny.list : undefined;
    this.allow = options.allowCidrs.some((e) => e.trim() !== '') ? allow.list : undefined;
    this.rate = options.participantRatePerSecond;
    this.burst = Math.max(1, options.participantBurst);
    this.serveWhileUnread = options.serveWhileQuarantineUnread ?? false;
  }

  private readonly serveWhileUnread: boolean;

  /** PERMISSION_DENIED for an address the lists refuse; undefined otherwise. */
  addressRefusal(call: PeerCarrier): DomainError | undefined {
    return this.addressRefused(call) ? addressDeniedError() : undefined;
  }

  /**
   * For the server, as a call's headers arrive (WireGate): the same refusal, the same error object
   * every time, so its status is encoded once.
   */
  wireAddressRefusal(call: PeerCarrier): DomainError | undefined {
    return this.addressRefused(call) ? WIRE_ADDRESS_DENIED : undefined;
  }

  /** Whether the lists refuse the call's address; counted when they do. */
  private addressRefused(call: PeerCarrier): boolean {
    if (!this.deny && !this.allow) return false;
    const address = peerAddress(call);
    // A caller whose address is not known cannot be shown not to be on a list: refused.
    const denied = address === undefined || this.listed(address);
    if (denied) callsShed.inc({ reason: 'address_denied', rpc: rpcLabelOf(call) });
    return denied;
  }

  /** Whether the lists refuse a (canonical) address; one they cannot read is refused. */
  private listed(address: string): boolean {
    const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    try {
      return (
        this.deny?.check(address, type) === true ||
        (this.allow !== undefined && !this.allow.check(address, type))
      );
    } catch {
      return true;
    }
  }

  /**
   * Once the caller is authorized: PERMISSION_DENIED for a quarantined participant, else
   * RESOURCE_EXHAUSTED for one over its rate; undefined otherwise. A quarantined participant's
   * calls do not draw on its rate.
   */
  callerRefusal(caller: Caller | undefined, now = Date.now()): DomainError | undefined {
    return this.quarantineRefusal(caller) ?? this.rateRefusal(caller, now);
  }

  /**
   * PERMISSION_DENIED when the caller is a quarantined participant (by subject or tenant);
   * UNAVAILABLE for any participant while the list has never been read (fail closed: the node
   * cannot tell), unless configured to serve meanwhile.
   */
  quarantineRefusal(caller: Caller | undefined): DomainError | undefined {
    const quarantine = this.quarantine;
    if (!quarantine || !caller) return undefined;
    if (caller.roles.some((role) => NEVER_QUARANTINED.has(role))) return undefined;
    if (!caller.roles.some((role) => PARTICIPANT_ROLES.has(role))) return undefined;
    if (!quarantine.synced) {
      if (this.serveWhileUnread) return undefined;
      callsShed.inc({ reason: 'quarantine_unread', rpc: '' });
      return new UnavailableError(
        'QUARANTINE_LIST_UNREAD',
        'the node has not read its quarantine list yet, so it cannot tell whether this participant may call; retry shortly',
        { retryAfterSeconds: 2 },
      );
    }
    if (quarantine.size === 0) return undefined;
    if (!quarantine.has(caller.subject) && !(caller.tenant && quarantine.has(caller.tenant)))
      return undefined;
    callsShed.inc({ reason: 'quarantined', rpc: '' });
    return new PermissionDeniedError(
      'PARTICIPANT_QUARANTINED',
      'this participant is quarantined by the node after a critical security risk: its calls are refused until the quarantine is lifted; contact the node operator',
    );
  }

  /**
   * Ends a long call of `caller` (a stream) when a change of the quarantine list quarantines it:
   * `end` runs once, at that change. Returns what stops the watching (call it when the call ends).
   * A call opened before the quarantine does not outlive it.
   */
  endOnQuarantine(caller: Caller, end: () => void): () => void {
    const quarantine = this.quarantine;
    if (!quarantine || !caller.roles.some((role) => PARTICIPANT_ROLES.has(role)))
      return () => undefined;
    const stop = quarantine.onChange(() => {
      const refusal = this.quarantineRefusal(caller);
      if (refusal?.reason !== 'PARTICIPANT_QUARANTINED') return;
      stop();
      end();
    });
    return stop;
  }

  /** RESOURCE_EXHAUSTED when a participant exceeds its rate; undefined otherwise. */
  rateRefusal(caller: Caller | undefined, now = Date.now()): DomainError | undefined {
    if (this.rate <= 0 || !caller) return undefined;
    if (!caller.roles.some((role) => PARTICIPANT_ROLES.has(role))) return undefined;
    // A token without a tenant is limited by its subject.
    const key = caller.tenant || `subject:${caller.subject}`;
    let bucket = this.buckets.get(key);
    if (bucket) {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
      bucket.at = now;
      // Most recently used last: the first entries are the longest idle.
      this.buckets.delete(key);
    } else {
      bucket = { tokens: this.burst, at: now };
      if (this.buckets.size >= MAX_BUCKETS) {
        const idlest = this.buckets.keys().next().value;
        if (idlest !== undefined) this.buckets.delete(idlest);
      }
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    callsShed.inc({ reason: 'rate_limited', rpc: '' });
    const waitSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate));
    return new ResourceExhaustedError(
      'RATE_LIMITED',
      `more than ${this.rate} calls per second from this participant; retry in ${waitSeconds} s`,
      { retryAfterSeconds: waitSeconds },
    );
  }
}

function addressDeniedError(): PermissionDeniedError {
  return new PermissionDeniedError('ADDRESS_DENIED', 'calls from this address are not served');
}

/** Only ever encoded into a status (WireAdmission keeps it), never handed on: one is enough. */
const WIRE_ADDRESS_DENIED = addressDeniedError();
