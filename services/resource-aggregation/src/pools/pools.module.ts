import { Module } from '@nestjs/common';
import { IdentifierGateway, POOL_IDENTIFIERS } from './identifier.gateway';
import { PoolsGrpcController } from './pools.grpc-controller';
import { PoolsRepository } from './pools.repository';
import { PoolsService } from './pools.service';

@Module({
  controllers: [PoolsGrpcController],
  providers: [
    PoolsRepository,
    PoolsService,
    IdentifierGateway,
    { provide: POOL_IDENTIFIERS, useExisting: IdentifierGateway },
  ],
  exports: [PoolsRepository],
})
export class PoolsModule {}
