/** The gRPC services this process serves (plus health and reflection, added by the bootstrap). */
export const SERVED_SERVICES = ['cinode.identifier.v1.IdentifierService'];
