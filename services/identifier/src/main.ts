import '@cinode/telemetry/register';
import { runServiceMain } from '@cinode/kit';
import { identifierService } from './service';

runServiceMain(identifierService);
