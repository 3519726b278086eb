import { context, trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/**
 * Paths redacted from every log line: credentials in request metadata, config and errors. pino's
 * redaction is path-based, so the common spellings are listed at the top level and one level down.
 */
export const REDACTED_PATHS = [
  'authorization',
  'password',
  'secret',
  'token',
  'apiKey',
  'api_key',
  'privateKey',
  'DATABASE_URL',
  'databaseUrl',
  '*.authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.apiKey',
  '*.api_key',
  '*.privateKey',
  '*.DATABASE_URL',
  '*.databaseUrl',
  'metadata.authorization',
  'req.headers.authorization',
];

export interface LoggerSettings {
  service: string;
  level: string;
  /** Where lines go; stdout by default. Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

/** JSON logger with the service name and the active trace and span ids on every line. */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: { service: settings.service },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const span = trace.getSpan(context.active());
      if (!span) return {};
      const { traceId, spanId } = span.spanContext();
      return { trace_id: traceId, span_id: spanId };
    },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}

/** Removes userinfo (credentials) from a URL before it is logged. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) {
      parsed.username = parsed.username ? '[redacted]' : '';
      parsed.password = '';
    }
    return parsed.toString();
  } catch {
    return '[unparseable url]';
  }
}
