// The regulator's side of runtime monitoring in a bench: a WatchFeed open from the feed's head,
// and marker events published the way the service center's relay publishes them, so the time
// from an event reaching its stream to a connected regulator receiving it can be measured.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ClientReadableStream } from '@grpc/grpc-js';
import { ParticipantRegistered, eventOf } from '@cinode/contracts';
import { createEnvelope, encodeEnvelope } from '@cinode/events';
import { createGrpcClient } from '@cinode/grpc';
import type {
  MonitoringServiceClient,
  WatchFeedResponse,
} from '@cinode/proto/gen/cinode/monitoring/v1/monitoring_service';
import { bearer, plaintext, type TestAuth } from '@cinode/testing';
import type { NatsConnection } from 'nats';

const MONITORING_SERVICE = 'cinode.monitoring.v1.MonitoringService';

/** Events published (id -> when the stream acknowledged them) and received on the feed (id -> when). */
export interface FeedWatch {
  published: Map<string, number>;
  received: Map<string, number>;
  /** Publishes one marker event (a participant registration) and records when it was stored. */
  publishMarker(): Promise<void>;
  /** Freshness of every marker published so far, ms (Infinity for one not received). */
  freshness(): number[];
  close(): Promise<void>;
}

export async function watchFeed(
  auth: TestAuth,
  address: string,
  nc: NatsConnection,
): Promise<FeedWatch> {
  const client = createGrpcClient<MonitoringServiceClient>(MONITORING_SERVICE, {
    address,
    credentials: plaintext(),
  });
  const token = await auth.token(['regulator'], 'bench-regulator', undefined, 3_600);
  const { events } = await client.api.listEvents(
    {
      domain: 0,
      regionCode: '',
      startTime: undefined,
      endTime: undefined,
      pageSize: 500,
      pageToken: '',
    },
    { metadata: bearer(token) },
  );
  const head = events.at(-1)?.cursor ?? 0;
  const published = new Map<string, number>();
  const received = new Map<string, number>();
  const raw = client.raw as unknown as {
    watchFeed(
      request: unknown,
      metadata: ReturnType<typeof bearer>,
      options: { deadline: Date },
    ): ClientReadableStream<WatchFeedResponse>;
  };
  const stream = raw.watchFeed({ afterCursor: head, domain: 0, regionCode: '' }, bearer(token), {
    deadline: new Date(Date.now() + 3_600_000),
  });
  stream.on('data', (message: WatchFeedResponse) => {
    const id = message.event?.eventId;
    if (id && !received.has(id)) received.set(id, performance.now());
  });
  stream.on('error', () => undefined);
  const js = nc.jetstream();
  return {
    published,
    received,
    publishMarker: async () => {
      const participantId = randomUUID();
      const envelope = createEnvelope(
        'service-center',
        eventOf(ParticipantRegistered, {
          participantId,
          version: 1,
          kind: 'USER',
          state: 'SUBMITTED',
          previousState: null,
          legalName: `Bench User ${participantId.slice(0, 8)}`,
          creditCode: null,
          reason: '',
          actor: 'bench',
        }),
      );
      await js.publish(envelope.type, encodeEnvelope(envelope), { msgID: envelope.id });
      published.set(envelope.id, performance.now());
    },
    freshness: () =>
      [...published].map(([id, at]) => {
        const got = received.get(id);
        return got === undefined ? Number.POSITIVE_INFINITY : Math.max(0, got - at);
      }),
    close: async () => {
      stream.cancel();
      client.close();
    },
  };
}
