import '@cinode/telemetry/register';
import { runServiceMain } from '@cinode/kit';
import { runtimeMonitoringService } from './service';

runServiceMain(runtimeMonitoringService);
