import { Module } from '@nestjs/common';
import { ResourceAggregationGateway } from '../compute/resource-aggregation.gateway';
import { DeliverySender } from '../delivery/delivery.sender';
import { NationalNodeGateway } from '../national/national-node.gateway';
import { NodeIdentityService } from '../national/node-identity.service';
import { DailyReportScheduler } from '../schedule/daily-report.scheduler';
import { SecurityGateway } from '../security/security.gateway';
import { SpecialRequestWatcher } from '../special/special-request.watcher';
import { ReportSigner } from '../signing/report-signer';
import { SigningKeysRepository } from '../signing/signing-keys.repository';
import { ReportContent } from './report-content';
import { ReportsGrpcController } from './reports.grpc-controller';
import { ReportsRepository } from './reports.repository';
import { ReportsService } from './reports.service';

/**
 * Reports to the national node: built by the scheduler and the special request watcher into the
 * outbox, delivered by the sender, read and resent through the API.
 */
@Module({
  controllers: [ReportsGrpcController],
  providers: [
    ReportsRepository,
    ReportsService,
    ReportContent,
    SigningKeysRepository,
    ReportSigner,
    NationalNodeGateway,
    NodeIdentityService,
    ResourceAggregationGateway,
    SecurityGateway,
    DeliverySender,
    DailyReportScheduler,
    SpecialRequestWatcher,
  ],
})
export class ReportsModule {}
