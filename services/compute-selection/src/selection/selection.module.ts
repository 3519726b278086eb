import { Module } from '@nestjs/common';
import { OfferIndex } from '@cinode/selection';
import { LinesModule } from '../lines/lines.module';
import { IndexFollower } from '../offers/index-follower.service';
import { SelectionGrpcController } from './selection.grpc-controller';
import { SelectionService } from './selection.service';

@Module({
  imports: [LinesModule],
  controllers: [SelectionGrpcController],
  providers: [
    { provide: OfferIndex, useFactory: () => new OfferIndex() },
    IndexFollower,
    SelectionService,
  ],
})
export class SelectionModule {}
