import { DynamicModule, Module } from '@nestjs/common';
import { SECURITY_STREAM } from '@cinode/contracts';
import { PlatformModule } from '@cinode/kit';
import { SecurityApiModule } from './api/security.module';
import { SERVICE_NAME, type SecurityConfig } from './config';
import { SECURITY_SCHEMA } from './schema';

/** Root module of security: the platform (with its SECURITY stream) and its features. */
@Module({})
export class SecurityModule {
  static forConfig(config: SecurityConfig): DynamicModule {
    return {
      module: SecurityModule,
      imports: [
        PlatformModule.forService({
          service: SERVICE_NAME,
          config,
          schema: SECURITY_SCHEMA,
          events: { owns: [SECURITY_STREAM] },
        }),
        SecurityApiModule,
      ],
    };
  }
}
