/**
 * Side-effect entry point: `import '@cinode/telemetry/register'` as the very first line of a
 * service's main.ts. The service name comes from OTEL_SERVICE_NAME or CINODE_SERVICE, set by the
 * launcher; the bootstrap sets CINODE_SERVICE too when it is missing.
 */
import { startTracing } from './tracing';

startTracing(process.env.OTEL_SERVICE_NAME ?? process.env.CINODE_SERVICE ?? 'cinode');
