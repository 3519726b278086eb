import type { Role } from '@cinode/auth';

/** Roles of participants acting for themselves. */
export const PARTICIPANT_ROLES: Role[] = [
  'provider',
  'reseller',
  'application_provider',
  'line_provider',
  'user',
];

/** Who may read participant records; what each sees is narrowed by access.ts. */
export const READ_ROLES: Role[] = ['operator', 'regulator', 'service', ...PARTICIPANT_ROLES];
