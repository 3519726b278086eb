import { Module } from '@nestjs/common';
import { IdentifiersRepository } from './identifiers.repository';

/** The identifier record: its persistence, shared by every feature that reads or changes it. */
@Module({ providers: [IdentifiersRepository], exports: [IdentifiersRepository] })
export class IdentifiersModule {}
