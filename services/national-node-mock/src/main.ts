import '@cinode/telemetry/register';
import { runServiceMain } from '@cinode/kit';
import { nationalNodeMock } from './service';

runServiceMain(nationalNodeMock);
