import { Module } from '@nestjs/common';
import { IdentifiersModule } from '../identifiers/identifiers.module';
import { QueriesGrpcController } from './queries.grpc-controller';
import { QueriesService } from './queries.service';
import { ResolveCache } from './resolve-cache';

/** Resolving and listing identifiers. */
@Module({
  imports: [IdentifiersModule],
  controllers: [QueriesGrpcController],
  providers: [QueriesService, ResolveCache],
})
export class QueriesModule {}
