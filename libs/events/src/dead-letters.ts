import { createHash } from 'node:crypto';
import { DEAD_LETTER_STREAM, deadLetterSubject } from '@cinode/contracts';
import {
  headers as natsHeaders,
  type JetStreamClient,
  type JetStreamManager,
  type MsgHdrs,
  type NatsConnection,
  type StoredMsg,
} from 'nats';
import { decodeEnvelope } from './envelope';
import { isNotFound } from './streams';

/** Headers a parked message carries besides the original ones. */
export const DLQ_HEADERS = {
  consumer: 'Cinode-Dlq-Consumer',
  stream: 'Cinode-Dlq-Stream',
  subject: 'Cinode-Dlq-Subject',
  streamSequence: 'Cinode-Dlq-Stream-Sequence',
  deliveries: 'Cinode-Dlq-Deliveries',
  error: 'Cinode-Dlq-Error',
  time: 'Cinode-Dlq-Time',
  kind: 'Cinode-Dlq-Kind',
} as const;

/**
 * `failure`: the consumer could not handle the message (malformed, refused by a rule); replaying it
 * (corrected, or after a fix) runs the handler again. `verdict`: the handler did handle it and parked
 * a copy for a person (e.g. a filing the national node refused); its outcome is recorded, and a
 * replay would be recognised as handled and change nothing.
 */
export type DeadLetterKind = 'failure' | 'verdict';

export const REPLAYED_FROM_HEADER = 'Cinode-Replayed-From';

/** Where a parked message came from. */
export interface DeadLetterOrigin {
  consumer: string;
  stream: string;
  subject: string;
  streamSequence: number;
  deliveries: number;
  data: Uint8Array;
  headers?: MsgHdrs;
}

/** Header values must be one line; keep them short too. */
function headerValue(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 1024);
}

/**
 * Copies a message to its consumer's dead-letter subject with why and from where; `duplicate` when
 * JetStream took it for a copy parked before. Parking the same stream message again (a retry
 * after a failure to ack) is stored once: its de-duplication id is
 * the consumer, the stream, the sequence and a digest of the body. The digest keeps a different
 * message at the same sequence apart, which a stream recreated within the dead-letter stream's
 * duplicate window numbers from 1 again; without it that message would be dropped as a repeat.
 */
export async function publishDeadLetter(
  js: JetStreamClient,
  origin: DeadLetterOrigin,
  error: string,
  kind: DeadLetterKind = 'failure',
): Promise<{ duplicate: boolean }> {
  const h = natsHeaders();
  for (const key of origin.headers?.keys() ?? []) {
    if (key.toLowerCase() === 'nats-msg-id') continue;
    for (const value of origin.headers?.values(key) ?? []) h.append(key, value);
  }
  h.set(DLQ_HEADERS.consumer, origin.consumer);
  h.set(DLQ_HEADERS.stream, origin.stream);
  h.set(DLQ_HEADERS.subject, origin.subject);
  h.set(DLQ_HEADERS.streamSequence, String(origin.streamSequence));
  h.set(DLQ_HEADERS.deliveries, String(origin.deliveries));
  h.set(DLQ_HEADERS.error, headerValue(error));
  h.set(DLQ_HEADERS.time, new Date().toISOString());
  h.set(DLQ_HEADERS.kind, kind);
  const ack = await js.publish(deadLetterSubject(origin.consumer), origin.data, {
    headers: h,
    msgID: deadLetterId(origin),
  });
  return { duplicate: ack.duplicate };
}

/** The de-duplication id of a parked copy (see `publishDeadLetter`). */
export function deadLetterId(origin: DeadLetterOrigin): string {
  return `${origin.consumer}:${origin.stream}:${origin.streamSequence}:${bodyDigest(origin.data)}`;
}

/** What keeps apart two bodies at the same position: 128 bits of their SHA-256. */
function bodyDigest(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex').slice(0, 32);
}

/** One parked message, as `npm run dlq -- list` shows it. */
export interface DeadLetter {
  /** Its sequence in the dead-letter stream: what replay and discard take. */
  seq: number;
  consumer: string;
  /** The subject it was published on, and where a replay puts it back. */
  subject: string;
  originStream: string;
  originSequence: number;
  deliveries: number;
  error: string;
  parkedAt: string;
  kind: DeadLetterKind;
  /** From the envelope, when the body is one. */
  eventId?: string;
  eventType?: string;
  data: Uint8Array;
}

function toDeadLetter(message: StoredMsg): DeadLetter {
  const h = (name: string) => message.header?.get(name) ?? '';
  const letter: DeadLetter = {
    seq: message.seq,
    consumer: h(DLQ_HEADERS.consumer),
    subject: h(DLQ_HEADERS.subject),
    originStream: h(DLQ_HEADERS.stream),
    originSequence: Number(h(DLQ_HEADERS.streamSequence)) || 0,
    deliveries: Number(h(DLQ_HEADERS.deliveries)) || 0,
    error: h(DLQ_HEADERS.error),
    parkedAt: h(DLQ_HEADERS.time),
    kind: h(DLQ_HEADERS.kind) === 'verdict' ? 'verdict' : 'failure',
    data: message.data,
  };
  try {
    const envelope = decodeEnvelope(message.data);
    letter.eventId = envelope.id;
    letter.eventType = envelope.type;
  } catch {
    // A body that is no envelope is exactly what some parked messages are.
  }
  return letter;
}

const NO_MESSAGE = 10037;

async function storedMessage(
  jsm: JetStreamManager,
  seq: number,
  stream: string,
): Promise<StoredMsg | undefined> {
  try {
    return await jsm.streams.getMessage(stream, { seq });
  } catch (error) {
    if (isNotFound(error, NO_MESSAGE)) return undefined;
    throw error;
  }
}

/** One parked message by its sequence, or undefined. */
export async function getDeadLetter(
  jsm: JetStreamManager,
  seq: number,
  stream: string = DEAD_LETTER_STREAM.name,
): Promise<DeadLetter | undefined> {
  const message = await storedMessage(jsm, seq, stream);
  return message ? toDeadLetter(message) : undefined;
}

export interface ListDeadLettersOptions {
  /** Only this consumer's parked messages. */
  consumer?: string;
  /** At most this many, oldest first (default 100). */
  limit?: number;
  stream?: string;
}

export async function listDeadLetters(
  jsm: JetStreamManager,
  options: ListDeadLettersOptions = {},
): Promise<DeadLetter[]> {
  const stream = options.stream ?? DEAD_LETTER_STREAM.name;
  const limit = options.limit ?? 100;
  const info = await jsm.streams.info(stream);
  const out: DeadLetter[] = [];
  if (info.state.messages === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && out.length < limit; seq++) {
    const message = await storedMessage(jsm, seq, stream);
    if (!message) continue;
    const letter = toDeadLetter(message);
    if (options.consumer === undefined || letter.consumer === options.consumer) out.push(letter);
  }
  return out;
}

export interface ReplayOptions {
  /**
   * A corrected message body to publish instead of the parked one: an event envelope with the
   * parked event's id and type (a new id would be a new event to every consumer of the subject).
   */
  data?: Uint8Array;
  stream?: string;
}

/**
 * Puts a parked message back on the subject it came from, where its consumer sees it again (other
 * consumers of that subject recognise the event id and skip it), then removes it from the
 * dead-letter stream. A corrected body must still be an event envelope.
 */
export async function replayDeadLetter(
  nc: NatsConnection,
  seq: number,
  options: ReplayOptions = {},
): Promise<DeadLetter> {
  const stream = options.stream ?? DEAD_LETTER_STREAM.name;
  const jsm = await nc.jetstreamManager();
  const message = await storedMessage(jsm, seq, stream);
  if (!message) throw new Error(`no message ${seq} in stream ${stream}`);
  const letter = toDeadLetter(message);
  if (!letter.subject) throw new Error(`message ${seq} names no original subject`);
  if (letter.kind === 'verdict') {
    throw new Error(
      `message ${seq} is a verdict ${letter.consumer} recorded (${letter.error}); it was handled, so ${letter.consumer} would skip a replay. Deal with the cause in the service, then discard it`,
    );
  }
  const data = options.data ?? message.data;
  if (options.data) {
    const corrected = decodeEnvelope(options.data);
    if (letter.eventId !== undefined && corrected.id !== letter.eventId)
      throw new Error(
        `the corrected body has event id ${corrected.id}; it must keep ${letter.eventId}`,
      );
    if (corrected.type !== letter.subject)
      throw new Error(
        `the corrected body has type ${corrected.type}; it must keep ${letter.subject}`,
      );
  }
  const h = natsHeaders();
  for (const key of message.header?.keys() ?? []) {
    if (key.startsWith('Cinode-Dlq-') || key.toLowerCase() === 'nats-msg-id') continue;
    for (const value of message.header?.values(key) ?? []) h.append(key, value);
  }
  h.set(REPLAYED_FROM_HEADER, `${stream}:${seq}`);
  // A replay run again (its delete below failed) is stored once; another body at the same
  // sequence of a recreated dead-letter stream is not taken for it, and then lost by the delete.
  await nc.jetstream().publish(letter.subject, data, {
    headers: h,
    msgID: `replay:${stream}:${seq}:${bodyDigest(data)}`,
  });
  await jsm.streams.deleteMessage(stream, seq, false);
  return letter;
}

/** Removes a parked message without replaying it. */
export async function discardDeadLetter(
  jsm: JetStreamManager,
  seq: number,
  stream: string = DEAD_LETTER_STREAM.name,
): Promise<boolean> {
  try {
    return await jsm.streams.deleteMessage(stream, seq, false);
  } catch (error) {
    if (isNotFound(error, NO_MESSAGE)) return false;
    throw error;
  }
}
