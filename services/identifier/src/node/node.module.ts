import { Module } from '@nestjs/common';
import { NationalModule } from '../national/national.module';
import { NodeRegistrationRepository } from './node-registration.repository';
import { NodeRegistrationService } from './node-registration.service';

/** The node's code and identifier prefix, registered with the national node. */
@Module({
  imports: [NationalModule],
  providers: [NodeRegistrationRepository, NodeRegistrationService],
  exports: [NodeRegistrationService],
})
export class NodeModule {}
