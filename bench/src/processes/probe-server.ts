// The probe RPC through the whole service stack, in a process of its own: a service built with the
// kit exactly as the real ones are (PlatformModule: config, logging, database, auth guard, call
// pipeline with deadline and audit declarations, metrics, health, reflection) whose one RPC,
// cinode.testing.v1.ProbeService/Probe, does no work of its own: it answers the message and the
// verified caller. Configured from the environment like any service (DATABASE_URL,
// AUTH_JWT_PUBLIC_KEYS, GRPC_PORT, ...); stops on SIGTERM.
import '@cinode/telemetry/register';
import { Controller, Module, type DynamicModule } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { ReadOnly } from '@cinode/audit';
import { AllowRoles, callerOf } from '@cinode/auth';
import { baseServiceSchema, loadConfig, type BaseServiceConfig } from '@cinode/config';
import { PlatformModule, runServiceMain, serviceSchema, type ServiceDefinition } from '@cinode/kit';
import type {
  ProbeRequest,
  ProbeResponse,
} from '@cinode/proto/gen/cinode/testing/v1/probe_service';

const NAME = 'bench-probe';
const schema = serviceSchema({ entities: [], migrations: [] }, { events: false });

@Controller()
class ProbeGrpcController {
  @GrpcMethod('ProbeService', 'Probe')
  @AllowRoles('provider', 'operator', 'service')
  @ReadOnly()
  probe(request: ProbeRequest, metadata: Metadata): ProbeResponse {
    return { message: request.message, callerSubject: callerOf(metadata).subject };
  }
}

@Module({})
class ProbeModule {
  static forConfig(config: BaseServiceConfig): DynamicModule {
    return {
      module: ProbeModule,
      imports: [PlatformModule.forService({ service: NAME, config, schema })],
      controllers: [ProbeGrpcController],
    };
  }
}

const probeService: ServiceDefinition<BaseServiceConfig> = {
  name: NAME,
  loadConfig: (env) => loadConfig({ service: NAME, schema: baseServiceSchema }, env),
  secrets: [],
  module: (config) => ProbeModule.forConfig(config),
  services: ['cinode.testing.v1.ProbeService'],
  schema,
};

runServiceMain(probeService);
