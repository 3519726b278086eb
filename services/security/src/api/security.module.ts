import { Module } from '@nestjs/common';
import { AttackEventsRepository } from '../attacks/attack-events.repository';
import { AttackEventsService } from '../attacks/attack-events.service';
import { EndpointsRepository } from '../endpoints/endpoints.repository';
import { EndpointsService } from '../endpoints/endpoints.service';
import { FindingsRepository } from '../findings/findings.repository';
import { FindingsService } from '../findings/findings.service';
import { ProjectionBackfill } from '../projections/backfill';
import { ParticipantsRepository } from '../projections/participants.repository';
import { ProjectionConsumers } from '../projections/projection.consumers';
import { QuarantineBucket } from '../risk/quarantine-bucket';
import { RiskApiService } from '../risk/risk-api.service';
import { RiskRepository } from '../risk/risk.repository';
import { RiskService } from '../risk/risk.service';
import { SecurityGrpcController } from './security.grpc-controller';

/** Every feature of the security service: one gRPC service over attacks, findings, endpoints and risk. */
@Module({
  controllers: [SecurityGrpcController],
  providers: [
    AttackEventsRepository,
    AttackEventsService,
    EndpointsRepository,
    EndpointsService,
    FindingsRepository,
    FindingsService,
    ParticipantsRepository,
    ProjectionBackfill,
    ProjectionConsumers,
    QuarantineBucket,
    RiskApiService,
    RiskRepository,
    RiskService,
  ],
})
export class SecurityApiModule {}
