import { Writable } from 'node:stream';
import { context, trace, ROOT_CONTEXT } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createLogger, redactUrl } from './logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { lines, destination };
}

describe(createLogger.name, () => {
  it('writes JSON lines with the service name and redacts credentials', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ service: 'demo', level: 'info', destination });
    logger.info({ authorization: 'Bearer abc', request: { password: 'p', name: 'n' } }, 'hello');
    expect(lines[0]).toMatchObject({ service: 'demo', level: 'info', msg: 'hello' });
    expect(lines[0].authorization).toBe('[redacted]');
    expect(lines[0].request).toEqual({ password: '[redacted]', name: 'n' });
  });

  it('adds the active trace and span ids', () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    const { lines, destination } = capture();
    const logger = createLogger({ service: 'demo', level: 'info', destination });
    const spanContext = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
    };
    context.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), () => logger.info('in a span'));
    context.disable();
    expect(lines[0]).toMatchObject({ trace_id: spanContext.traceId, span_id: spanContext.spanId });
  });
});

describe(redactUrl.name, () => {
  it('removes the password from a connection URL', () => {
    expect(redactUrl('postgres://user:hunter2@db:5432/x')).not.toContain('hunter2');
  });
});
