import { Logger } from '@nestjs/common';
import type { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { openSideConnection } from './transaction';

export interface NotificationHandlers {
  /** A NOTIFY on the channel, with its payload. */
  notified(payload: string): void;
  /** LISTEN is in place: from now on every notification arrives. */
  listening(): void;
  /** The connection is gone: notifications since may have been missed. */
  lost(): void;
}

const RETRY_INITIAL_MS = 500;
const RETRY_MAX_MS = 30_000;

/**
 * LISTEN on one channel over a connection of its own, reconnecting with backoff when it is lost,
 * and telling its owner when notifications can be trusted (`listening`) and when some may have
 * been missed (`lost`), so a cache built on them can drop what it holds.
 */
export class NotificationListener {
  private readonly logger = new Logger(NotificationListener.name);
  private client: Client | undefined;
  private stopped = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;

  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly channel: string,
    private readonly handlers: NotificationHandlers,
    /** How often the connection is checked with a round trip (a dead socket may raise nothing). */
    private readonly heartbeatMs = 5_000,
  ) {}

  /** Connects in the background; resolves once the first attempt has ended either way. */
  start(): Promise<void> {
    return this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    const client = this.client;
    this.client = undefined;
    if (client) {
      this.handlers.lost();
      await client.end().catch(() => undefined);
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = openSideConnection(this.dataSource, `listen-${this.channel}`, undefined, true);
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.handlers.notified(message.payload ?? '');
    });
    client.on('error', (error) => this.lose(client, error));
    client.on('end', () => this.lose(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(this.channel)}`);
    } catch (error) {
      client.end().catch(() => undefined);
      this.logger.warn(`LISTEN ${this.channel} failed: ${messageOf(error)}; retrying`);
      this.retry();
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.failures = 0;
    this.handlers.listening();
    this.heartbeat = setInterval(() => void this.check(client), this.heartbeatMs);
    this.heartbeat.unref();
  }

  /** A round trip within the heartbeat period, or the connection counts as lost. */
  private async check(client: Client): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.query('SELECT 1'),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${this.heartbeatMs} ms`)),
            this.heartbeatMs,
          );
        }),
      ]);
    } catch (error) {
      this.lose(client, error instanceof Error ? error : new Error(String(error)));
    } finally {
      clearTimeout(timer);
    }
  }

  private lose(client: Client, error?: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    clearInterval(this.heartbeat);
    this.handlers.lost();
    client.end().catch(() => undefined);
    if (this.stopped) return;
    this.logger.warn(
      `LISTEN ${this.channel} connection lost${error ? `: ${error.message}` : ''}; reconnecting`,
    );
    this.retry();
  }

  private retry(): void {
    if (this.stopped) return;
    this.failures += 1;
    const delay = Math.min(RETRY_INITIAL_MS * 2 ** (this.failures - 1), RETRY_MAX_MS);
    this.timer = setTimeout(() => void this.connect(), delay);
    this.timer.unref();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
