import '@cinode/telemetry/register';
import { runServiceMain } from '@cinode/kit';
import { serviceCenter } from './service';

runServiceMain(serviceCenter);
