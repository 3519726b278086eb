import { Module } from '@nestjs/common';
import { LineTable } from '@cinode/selection';
import { IdentifierGateway, LINE_IDENTIFIERS } from './identifier.gateway';
import { LineFollower } from './line-follower.service';
import { LineHoldSweeper } from './line-hold.sweeper';
import { LineHoldsRepository } from './line-holds.repository';
import { LineHoldsService } from './line-holds.service';
import { LinesGrpcController } from './lines.grpc-controller';
import { LinesRepository } from './lines.repository';
import { LinesService } from './lines.service';

@Module({
  controllers: [LinesGrpcController],
  providers: [
    LinesRepository,
    LinesService,
    LineHoldsRepository,
    LineHoldsService,
    LineHoldSweeper,
    IdentifierGateway,
    { provide: LINE_IDENTIFIERS, useExisting: IdentifierGateway },
    { provide: LineTable, useFactory: () => new LineTable() },
    LineFollower,
  ],
  exports: [LinesRepository, LineFollower],
})
export class LinesModule {}
