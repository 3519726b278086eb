import { setFlagsFromString } from 'node:v8';
import manifest from '../service.json';
import type { ServiceDefinition } from '@cinode/kit';
import { ComputeSelectionModule } from './app.module';
import {
  SERVICE_NAME,
  computeSelectionConfigDefinition,
  loadComputeSelectionConfig,
  type ComputeSelectionConfig,
} from './config';
import { COMPUTE_SELECTION_SCHEMA } from './schema';

/** compute-selection as main.ts runs it and tests start it. */
export const computeSelectionService: ServiceDefinition<ComputeSelectionConfig> = {
  name: SERVICE_NAME,
  loadConfig: loadComputeSelectionConfig,
  secrets: computeSelectionConfigDefinition.secrets ?? [],
  module: (config) => {
    // V8 reads the factor at every full collection, so it applies from here on.
    if (config.HEAP_GROWING_PERCENT > 0)
      setFlagsFromString(`--heap-growing-percent=${config.HEAP_GROWING_PERCENT}`);
    return ComputeSelectionModule.forConfig(config);
  },
  services: manifest.grpcServices,
  schema: COMPUTE_SELECTION_SCHEMA,
};
