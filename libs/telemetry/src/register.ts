/**
 * Side-effect entry point: `import '@cinode/telemetry/register'` as the very first line of a
 * service's main.ts. The service name comes from OTEL_SERVICE_NAME or CINODE_SERVICE, set by the
 * launcher; the bootstrap sets CINODE_SERVICE too when it is missing.
 */
import { startTracing } from './tracing';

/** The service a built main.js belongs to: dist/services/<name>/src/main.js. */
function serviceOfMainModule(): string | undefined {
  return /[/\\]services[/\\]([a-z][a-z0-9-]*)[/\\]/.exec(require.main?.filename ?? '')?.[1];
}

startTracing(
  process.env.OTEL_SERVICE_NAME ?? process.env.CINODE_SERVICE ?? serviceOfMainModule() ?? 'cinode',
);
