import '@cinode/telemetry/register';
import { runServiceMain } from '@cinode/kit';
import { reportingService } from './service';

runServiceMain(reportingService);
