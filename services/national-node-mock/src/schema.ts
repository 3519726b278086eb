import { IdentifierFilingEntity } from './filings/identifier-filing.entity';
import { InitialSchema1763913600000 } from './migrations/1763913600000-initial-schema';
import { NodeEntity } from './nodes/node.entity';
import { ReportEntity } from './reports/report.entity';

export const MOCK_ENTITIES = [NodeEntity, IdentifierFilingEntity, ReportEntity];
export const MOCK_MIGRATIONS = [InitialSchema1763913600000];
