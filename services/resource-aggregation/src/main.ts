import '@cinode/telemetry/register';
import { runServiceMain } from '@cinode/kit';
import { resourceAggregationService } from './service';

runServiceMain(resourceAggregationService);
