import '@cinode/telemetry/register';
import { runServiceMain } from '@cinode/kit';
import { computeSelectionService } from './service';

runServiceMain(computeSelectionService);
