/** Who may call what. Every RPC declares the roles allowed; anything undeclared is denied. */
export const ROLES = [
  'operator',
  'provider',
  'reseller',
  'application_provider',
  'line_provider',
  'user',
  'regulator',
  'national_node',
  'service',
] as const;

export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** The authenticated caller of an RPC, from its verified token. */
export interface Caller {
  /** Participant id, or the service name for internal service identities. */
  subject: string;
  roles: Role[];
  /** Data scope: the participant's own tenant; operators and regulators see every tenant. */
  tenant: string;
  tokenId: string;
  expiresAt: Date;
  /**
   * `kid` of the key that signed the token. A peer that serves several nodes (the national node)
   * tells them apart by it: each node signs its service tokens with its own key.
   */
  signingKeyId?: string;
}

export function hasRole(caller: Caller, ...roles: Role[]): boolean {
  return caller.roles.some((r) => roles.includes(r));
}
