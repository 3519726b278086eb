import { serviceSchema } from '@cinode/kit';
import { DeliveryAttemptEntity } from './reports/delivery-attempt.entity';
import { InitialSchema1796096206361 } from './migrations/1796096206361-initial-schema';
import { SpecialReports1796103169862 } from './migrations/1796103169862-special-reports';
import { ReportRebuilds1796900000000 } from './migrations/1796900000000-report-rebuilds';
import { NodeReportEntity } from './reports/report.entity';
import { SigningKeyEntity } from './signing/signing-key.entity';

/** reporting's tables with the platform's (idempotency keys, audit log); it has no events. */
export const REPORTING_SCHEMA = serviceSchema(
  {
    entities: [NodeReportEntity, DeliveryAttemptEntity, SigningKeyEntity],
    migrations: [
      InitialSchema1796096206361,
      SpecialReports1796103169862,
      ReportRebuilds1796900000000,
    ],
  },
  { events: false },
);
