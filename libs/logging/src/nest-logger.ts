import type { LoggerService } from '@nestjs/common';
import type { Logger } from 'pino';

/**
 * Nest's LoggerService on a pino logger, passed to NestFactory at creation so even the framework's
 * start-up lines (and a failed start) are JSON with the service name.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  /** Nest passes the context (class name) last, and for errors a stack before it. */
  private write(
    level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal',
    message: unknown,
    rest: unknown[],
  ): void {
    const context =
      typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const stack =
      level === 'error' && typeof rest[0] === 'string' && rest.length > 1 ? rest[0] : undefined;
    if (message instanceof Error) {
      this.logger[level]({ err: message, context }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      // logger.error({ fields }, 'text') through Nest's Logger arrives as (fields, 'text', context).
      const { msg, ...fields } = message as Record<string, unknown>;
      const text =
        typeof msg === 'string'
          ? msg
          : rest.length > 1 && typeof rest[0] === 'string'
            ? rest[0]
            : '';
      this.logger[level]({ ...fields, context }, text);
    } else {
      this.logger[level]({ context, stack }, String(message));
    }
  }
}
