import { Module } from '@nestjs/common';
import { NationalNodeGateway } from './national-node.gateway';

/** The calls this service makes to the national node. */
@Module({ providers: [NationalNodeGateway], exports: [NationalNodeGateway] })
export class NationalModule {}
