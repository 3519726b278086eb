import {
  Inject,
  Injectable,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { LineChanges } from '@cinode/contracts';
import { NATS_CONNECTION } from '@cinode/events';
import { LineTable } from '@cinode/selection';
import type { NatsConnection } from 'nats';
import { StreamFollower } from '../followers/stream-follower';
import { lineDataOf } from './line-view';
import { LinesRepository } from './lines.repository';

/** Lines read from the database per query while the table is loaded. */
const PAGE_SIZE = 500;

/**
 * Keeps this replica's table of dedicated lines current (see StreamFollower): every line from
 * this service's database, then the NETWORK stream's line events, which every replica's changes
 * publish through the outbox. Select answers UNAVAILABLE until it is loaded.
 */
@Injectable()
export class LineFollower implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly follower: StreamFollower<(typeof LineChanges.events)[number]>;

  constructor(
    readonly table: LineTable,
    private readonly lines: LinesRepository,
    @Inject(NATS_CONNECTION) nc: NatsConnection,
  ) {
    this.follower = new StreamFollower(nc, {
      name: 'line table',
      source: LineChanges,
      load: () => this.load(),
      apply: (event) => this.table.apply(event.data),
    });
  }

  get ready(): boolean {
    return this.follower.ready;
  }

  onApplicationBootstrap(): void {
    this.follower.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.follower.stop();
  }

  private async load(): Promise<number> {
    let count = 0;
    let after: { after: string; afterId: string } | undefined;
    for (;;) {
      const rows = await this.lines.list({}, PAGE_SIZE, after);
      const page = rows.slice(0, PAGE_SIZE);
      for (const line of page) this.table.apply(lineDataOf(line));
      count += page.length;
      const last = page.at(-1);
      if (rows.length <= PAGE_SIZE || !last) return count;
      after = { after: last.registeredAt.toISOString(), afterId: last.lineId };
    }
  }
}
