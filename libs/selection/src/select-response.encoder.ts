import { SelectResponse } from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import type { Scored, SelectionResult } from './matcher';
import { PATH_KINDS, eliminationOrder, selectResponseOf } from './select-response';

/*
 * Select's answer written straight into one buffer: the very bytes SelectResponse.encode gives for
 * selectResponseOf(result), without the response objects, and without the generated writer's
 * chunk per field, fork per sub-message and copies on join (under load its encoding cost twice the
 * search, and most of the garbage per call). Two passes: the sizes of the sub-messages and strings
 * (length prefixes come first), then the bytes. Numbers the fast path does not write as the
 * generated encoder would (negative or fractional integers, int32 out of range) send the whole
 * answer through the generated encoder instead. The spec compares the bytes on many demands.
 */

const INT32_MAX = 0x7fffffff;

/**
 * Per candidate: its size, its path's, its breakdown's; then the byte length of each string.
 * Reused from call to call and never shortened (an array set to length 0 gives its storage back,
 * to be grown again by the next answer): `sizeCount` and `stringCount` say how much is this call's.
 */
const sizes: number[] = [];
const strings: number[] = [];
let sizeCount = 0;
let stringCount = 0;

function varintSize(value: number): number {
  let size = 1;
  while (value > 0x7f) {
    value = Math.floor(value / 128);
    size += 1;
  }
  return size;
}

/** This answer's eliminations in answer order (see eliminationOrder): reused like `sizes`. */
const eliminatedBy: string[] = [];
const eliminatedPools: number[] = [];
let eliminatedCount = 0;

/**
 * Puts the eliminations into `eliminatedBy`/`eliminatedPools` in answer order (eliminationOrder,
 * as the generated path sorts them): an insertion sort of at most one entry per constraint, with no
 * entry array per elimination nor a sorted copy.
 */
function orderEliminations(eliminations: ReadonlyMap<string, number>): void {
  eliminatedCount = 0;
  eliminations.forEach(insertElimination);
}

function insertElimination(pools: number, constraint: string): void {
  let at = eliminatedCount;
  while (at > 0) {
    if (eliminationOrder(eliminatedPools[at - 1], eliminatedBy[at - 1], pools, constraint) < 0)
      break;
    eliminatedBy[at] = eliminatedBy[at - 1];
    eliminatedPools[at] = eliminatedPools[at - 1];
    at -= 1;
  }
  eliminatedBy[at] = constraint;
  eliminatedPools[at] = pools;
  eliminatedCount += 1;
}

/** Non-negative int32 or 0 (unset): what the fast path writes as the generated encoder does. */
const int32Ok = (v: number) => v === 0 || (Number.isInteger(v) && v > 0 && v <= INT32_MAX);
const int64Ok = (v: number) => v === 0 || (Number.isSafeInteger(v) && v > 0);

/** A varint field's size with its one-byte tag, 0 when unset. */
const varintField = (v: number) => (v !== 0 ? 1 + varintSize(v) : 0);
const doubleField = (v: number) => (v !== 0 ? 9 : 0);

/** `value.length` when every character is ASCII (one byte each in UTF-8), else -1. */
function asciiLength(value: string): number {
  for (let i = 0; i < value.length; i += 1) if (value.charCodeAt(i) > 0x7f) return -1;
  return value.length;
}

function stringField(value: string): number {
  if (value === '') {
    strings[stringCount++] = 0;
    return 0;
  }
  // Identifiers, region codes and sites are ASCII: measured (and written) without a call into
  // the runtime per string.
  const ascii = asciiLength(value);
  const length = ascii >= 0 ? ascii : Buffer.byteLength(value, 'utf8');
  strings[stringCount++] = length;
  return 1 + varintSize(length) + length;
}

function candidateSize(c: Scored, durationHours: number): number {
  const kind = PATH_KINDS[c.path];
  const linePrice = c.line?.priceFenPerHour ?? 0;
  const total = c.priceFenPerHour * durationHours;
  const { breakdown } = c;
  if (
    !int32Ok(kind) ||
    !int32Ok(c.latencyMs) ||
    !int64Ok(c.bandwidthMbps) ||
    !int64Ok(linePrice) ||
    !int64Ok(c.priceFenPerHour) ||
    !int64Ok(total) ||
    !int64Ok(c.offer.version)
  )
    return -1;
  const path =
    varintField(kind) +
    varintField(c.latencyMs) +
    varintField(c.bandwidthMbps) +
    stringField(c.line?.lineId ?? '') +
    varintField(linePrice);
  const scores =
    doubleField(breakdown.price) +
    doubleField(breakdown.latency) +
    doubleField(breakdown.computeEfficiency) +
    doubleField(breakdown.carbonEfficiency) +
    doubleField(breakdown.security);
  const size =
    stringField(c.offer.poolId) +
    stringField(c.offer.providerParticipantId) +
    stringField(c.offer.regionCode) +
    stringField(c.offer.site) +
    (1 + varintSize(path) + path) +
    varintField(c.priceFenPerHour) +
    varintField(total) +
    doubleField(c.score) +
    (1 + varintSize(scores) + scores) +
    varintField(c.offer.version);
  sizes[sizeCount++] = size;
  sizes[sizeCount++] = path;
  sizes[sizeCount++] = scores;
  return size;
}

class Out {
  pos = 0;
  string = 0;
  constructor(readonly buf: Buffer) {}

  byte(value: number): void {
    this.buf[this.pos++] = value;
  }

  varint(value: number): void {
    while (value > 0x7f) {
      this.buf[this.pos++] = value % 128 | 0x80;
      value = Math.floor(value / 128);
    }
    this.buf[this.pos++] = value;
  }

  varintField(tag: number, value: number): void {
    if (value === 0) return;
    this.buf[this.pos++] = tag;
    this.varint(value);
  }

  doubleField(tag: number, value: number): void {
    if (value === 0) return;
    this.buf[this.pos++] = tag;
    this.pos = this.buf.writeDoubleLE(value, this.pos);
  }

  stringField(tag: number, value: string): void {
    const length = strings[this.string++];
    if (value === '') return;
    this.buf[this.pos++] = tag;
    this.varint(length);
    if (length === value.length) {
      // As many bytes as characters: all ASCII.
      const buf = this.buf;
      let pos = this.pos;
      for (let i = 0; i < length; i += 1) buf[pos++] = value.charCodeAt(i);
      this.pos = pos;
    } else this.pos += this.buf.write(value, this.pos, length, 'utf8');
  }
}

/** SelectResponse.encode(selectResponseOf(result, durationHours)), written directly. */
export function encodeSelectResponse(result: SelectionResult, durationHours: number): Buffer {
  sizeCount = 0;
  stringCount = 0;
  orderEliminations(result.eliminations);
  let total = 0;
  for (const c of result.candidates) {
    const size = candidateSize(c, durationHours);
    if (size < 0) return generated(result, durationHours);
    total += 1 + varintSize(size) + size;
  }
  if (!int32Ok(result.matched) || !int32Ok(result.considered))
    return generated(result, durationHours);
  total += varintField(result.matched) + varintField(result.considered);
  // The eliminations' sizes follow the candidates' in `sizes`.
  const eliminationsAt = sizeCount;
  for (let i = 0; i < eliminatedCount; i += 1) {
    const pools = eliminatedPools[i];
    if (!int32Ok(pools)) return generated(result, durationHours);
    const size = stringField(eliminatedBy[i]) + varintField(pools);
    sizes[sizeCount++] = size;
    total += 1 + varintSize(size) + size;
  }

  const out = new Out(Buffer.allocUnsafe(total));
  let at = 0;
  for (const c of result.candidates) {
    const size = sizes[at];
    const path = sizes[at + 1];
    const scores = sizes[at + 2];
    at += 3;
    out.byte(10);
    out.varint(size);
    // The strings were measured path first (its line), then the candidate's own.
    const lineString = out.string;
    out.string += 1;
    out.stringField(10, c.offer.poolId);
    out.stringField(18, c.offer.providerParticipantId);
    out.stringField(26, c.offer.regionCode);
    out.stringField(34, c.offer.site);
    const after = out.string;
    out.byte(42);
    out.varint(path);
    out.varintField(8, PATH_KINDS[c.path]);
    out.varintField(16, c.latencyMs);
    out.varintField(24, c.bandwidthMbps);
    out.string = lineString;
    out.stringField(34, c.line?.lineId ?? '');
    out.string = after;
    out.varintField(40, c.line?.priceFenPerHour ?? 0);
    out.varintField(48, c.priceFenPerHour);
    out.varintField(56, c.priceFenPerHour * durationHours);
    out.doubleField(65, c.score);
    out.byte(74);
    out.varint(scores);
    const { breakdown } = c;
    out.doubleField(9, breakdown.price);
    out.doubleField(17, breakdown.latency);
    out.doubleField(25, breakdown.computeEfficiency);
    out.doubleField(33, breakdown.carbonEfficiency);
    out.doubleField(41, breakdown.security);
    out.varintField(80, c.offer.version);
  }
  out.varintField(16, result.matched);
  out.varintField(24, result.considered);
  for (let i = 0; i < eliminatedCount; i += 1) {
    out.byte(34);
    out.varint(sizes[eliminationsAt + i]);
    out.stringField(10, eliminatedBy[i]);
    out.varintField(16, eliminatedPools[i]);
  }
  if (out.pos !== total) throw new Error(`SelectResponse: wrote ${out.pos} of ${total} bytes`);
  return out.buf;
}

function generated(result: SelectionResult, durationHours: number): Buffer {
  const bytes = SelectResponse.encode(selectResponseOf(result, durationHours)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
