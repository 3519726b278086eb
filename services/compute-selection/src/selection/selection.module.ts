import { Module } from '@nestjs/common';
import { IndexFollower } from '../offers/index-follower.service';
import { OfferIndex } from '@cinode/selection';
import { SelectionGrpcController } from './selection.grpc-controller';
import { SelectionService } from './selection.service';

@Module({
  controllers: [SelectionGrpcController],
  providers: [
    { provide: OfferIndex, useFactory: () => new OfferIndex() },
    IndexFollower,
    SelectionService,
  ],
})
export class SelectionModule {}
