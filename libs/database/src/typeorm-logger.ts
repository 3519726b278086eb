import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLoggerInterface, QueryRunner } from 'typeorm';

const MAX_QUERY_CHARS = 500;

function shortQuery(query: string): string {
  const flat = query.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_QUERY_CHARS ? `${flat.slice(0, MAX_QUERY_CHARS)}…` : flat;
}

/**
 * TypeORM's log lines through the service's (JSON, redacting) logger, and never with a query's
 * parameters: they hold participants' personal data, and a caller can make queries fail at will.
 */
export class TypeOrmLogger implements TypeOrmLoggerInterface {
  private readonly logger = new NestLogger('TypeORM');

  logQuery(query: string): void {
    this.logger.debug?.(shortQuery(query));
  }

  logQueryError(error: string | Error, query: string): void {
    const message = error instanceof Error ? error.message : error;
    this.logger.warn(`query failed: ${message} (${shortQuery(query)})`);
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn(`slow query (${time} ms): ${shortQuery(query)}`);
  }

  logSchemaBuild(message: string): void {
    this.logger.debug?.(message);
  }

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown, _queryRunner?: QueryRunner): void {
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    if (level === 'warn') this.logger.warn(text);
    else this.logger.log(text);
  }
}
