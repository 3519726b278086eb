import type { Role } from '@cinode/auth';
import { assertUnreachable } from '@cinode/common';
import { ParticipantKind } from '@cinode/proto/gen/cinode/participant/v1/participant_service';

/** The roles a participant's token carries, from its kind (docs/adr/0001). */
export function rolesOfKind(kind: ParticipantKind): Role[] {
  switch (kind) {
    case ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER:
      return ['provider'];
    case ParticipantKind.PARTICIPANT_KIND_RESELLER:
      return ['reseller'];
    case ParticipantKind.PARTICIPANT_KIND_APPLICATION_PROVIDER:
      return ['application_provider'];
    case ParticipantKind.PARTICIPANT_KIND_LINE_PROVIDER:
      return ['line_provider'];
    case ParticipantKind.PARTICIPANT_KIND_USER:
      return ['user'];
    case ParticipantKind.PARTICIPANT_KIND_OPERATOR:
      return ['operator'];
    case ParticipantKind.PARTICIPANT_KIND_UNSPECIFIED:
      throw new Error('a stored participant always has a kind');
    default:
      return assertUnreachable(kind, 'participant kind');
  }
}

/** Short names used in event payloads and audit rows: "COMPUTE_PROVIDER", "CERTIFIED". */
export function kindName(kind: ParticipantKind): string {
  return (ParticipantKind[kind] ?? String(kind)).replace(/^PARTICIPANT_KIND_/, '');
}
