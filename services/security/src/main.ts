import '@cinode/telemetry/register';
import { runServiceMain } from '@cinode/kit';
import { securityService } from './service';

runServiceMain(securityService);
