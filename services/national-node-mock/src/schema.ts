import { serviceSchema } from '@cinode/kit';
import { IdentifierFilingEntity } from './filings/identifier-filing.entity';
import { InitialSchema1763913600000 } from './migrations/1763913600000-initial-schema';
import { KitAlignment1796100000000 } from './migrations/1796100000000-kit-alignment';
import { ReportSignatures1796700000000 } from './migrations/1796700000000-report-signatures';
import { SpecialReportRequests1796800000000 } from './migrations/1796800000000-special-report-requests';
import { NodeOwner1796900000000 } from './migrations/1796900000000-node-owner';
import { NodeEntity } from './nodes/node.entity';
import { ReportEntity } from './reports/report.entity';
import { ReportSigningKeyEntity } from './signing-keys/report-signing-key.entity';
import { SpecialRequestEntity } from './special-requests/special-request.entity';

/** The mock's tables with the platform's (idempotency keys, audit log); it has no events. */
export const MOCK_SCHEMA = serviceSchema(
  {
    entities: [
      NodeEntity,
      IdentifierFilingEntity,
      ReportEntity,
      ReportSigningKeyEntity,
      SpecialRequestEntity,
    ],
    migrations: [
      InitialSchema1763913600000,
      KitAlignment1796100000000,
      ReportSignatures1796700000000,
      SpecialReportRequests1796800000000,
      NodeOwner1796900000000,
    ],
  },
  { events: false },
);
