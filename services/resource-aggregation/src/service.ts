import manifest from '../service.json';
import type { ServiceDefinition } from '@cinode/kit';
import { ResourceAggregationModule } from './app.module';
import {
  SERVICE_NAME,
  resourceAggregationConfigDefinition,
  loadResourceAggregationConfig,
  type ResourceAggregationConfig,
} from './config';
import { RESOURCE_AGGREGATION_SCHEMA } from './schema';

/** resource-aggregation as main.ts runs it and tests start it. */
export const resourceAggregationService: ServiceDefinition<ResourceAggregationConfig> = {
  name: SERVICE_NAME,
  loadConfig: loadResourceAggregationConfig,
  secrets: resourceAggregationConfigDefinition.secrets ?? [],
  module: (config) => ResourceAggregationModule.forConfig(config),
  services: manifest.grpcServices,
  schema: RESOURCE_AGGREGATION_SCHEMA,
};
