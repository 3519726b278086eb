import { Module } from '@nestjs/common';
import { QualificationsModule } from '../qualifications/qualifications.module';
import { AllocationEventsConsumer } from './allocation-events.consumer';
import { GrpcMarketPeers, MARKET_PEERS } from './market-peers';
import { MarketGrpcController } from './market.grpc-controller';
import { MarketRepository } from './market.repository';
import { MarketService } from './market.service';
import { OrderRecoveryService } from './order-recovery.service';

/** Demands and orders: compute selection's answers stored, capacity held at resource aggregation. */
@Module({
  imports: [QualificationsModule],
  controllers: [MarketGrpcController],
  providers: [
    MarketRepository,
    MarketService,
    OrderRecoveryService,
    AllocationEventsConsumer,
    { provide: MARKET_PEERS, useClass: GrpcMarketPeers },
  ],
})
export class MarketModule {}
