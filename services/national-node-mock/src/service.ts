import manifest from '../service.json';
import { loadConfig } from '@cinode/config';
import type { ServiceDefinition } from '@cinode/kit';
import { NationalNodeMockModule } from './app.module';
import { SERVICE_NAME, mockConfigDefinition, type MockConfig } from './config';
import { MOCK_SCHEMA } from './schema';

/** The national node mock as main.ts runs it and tests start it. */
export const nationalNodeMock: ServiceDefinition<MockConfig> = {
  name: SERVICE_NAME,
  loadConfig: (env = process.env) => loadConfig(mockConfigDefinition, env),
  secrets: mockConfigDefinition.secrets ?? [],
  module: (config) => NationalNodeMockModule.forConfig(config),
  services: manifest.grpcServices,
  schema: MOCK_SCHEMA,
};
