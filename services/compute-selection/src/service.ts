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
  module: (config) => ComputeSelectionModule.forConfig(config),
  services: manifest.grpcServices,
  schema: COMPUTE_SELECTION_SCHEMA,
};
