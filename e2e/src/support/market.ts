import { randomUUID } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  ObjectType,
  type Identifier,
} from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import {
  ParticipantState,
  UserCategory,
  type CreateParticipantRequest,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { validCreditCode } from './fixtures';
import { as, type KeyHolder, type NodeClients } from './node-processes';
import { retryWhile } from './waiting';

/**
 * Bound of waits for asynchronous work (events, filing) that normally takes well under a second.
 * 45 s: in a clean-clone CI run under load (two nodes of nine services on two cores) one pool of
 * four stayed pending filing past 20 s; a JetStream redelivery after the default 30 s ack wait
 * would explain it, and is what this bound leaves room for until that is found.
 */
export const SETTLE_MS = 45_000;

/** An organisation's registration, with a fresh request id and a valid credit code by default. */
export function organisation(
  kind: CreateParticipantRequest['kind'],
  name: string,
  creditCode = validCreditCode(),
  requestId = randomUUID(),
): CreateParticipantRequest {
  return {
    requestId,
    kind,
    userCategory: UserCategory.USER_CATEGORY_UNSPECIFIED,
    name,
    organization: {
      creditCode,
      address: '88 Zhangjiang Road, Pudong New Area, Shanghai',
      contactPerson: {
        name: 'Li Lei',
        title: 'Operations manager',
        mobile: '13800138000',
        email: 'li.lei@example.cn',
      },
      responsiblePerson: {
        name: 'Han Meimei',
        title: 'General manager',
        mobile: '13900139000',
        email: 'han.meimei@example.cn',
      },
    },
    individual: undefined,
  };
}

/** Registers, reviews and certifies a participant as the operator; returns its id and first key. */
export async function registerAndCertify(
  api: NodeClients,
  operator: KeyHolder,
  request: CreateParticipantRequest,
): Promise<{ id: string; apiKey: string; keyPrefix: string }> {
  const { participant } = await api.participants.createParticipant(request);
  expect(participant?.state).toBe(ParticipantState.PARTICIPANT_STATE_SUBMITTED);
  const id = participant!.id;
  const reviewed = await api.certification.startReview(
    { participantId: id, reason: 'business licence received' },
    await operator.options(),
  );
  expect(reviewed.participant?.state).toBe(ParticipantState.PARTICIPANT_STATE_UNDER_REVIEW);
  const certified = await api.certification.certifyParticipant(
    { participantId: id, reason: 'licence and credit code verified', requestId: randomUUID() },
    await operator.options(),
  );
  expect(certified.participant?.state).toBe(ParticipantState.PARTICIPANT_STATE_CERTIFIED);
  const issued = certified.issuedApiKey!;
  return { id, apiKey: issued.apiKeySecret, keyPrefix: issued.apiKey!.prefix };
}

/**
 * Issues a resource-pool identifier as the participant holding `token`. Retried while the
 * identifier service has not yet registered the node (UNAVAILABLE) or not yet seen the owner's
 * certification event (FAILED_PRECONDITION); the same request_id makes retries safe.
 */
export async function issueResourcePool(
  api: NodeClients,
  token: string,
  owner: { name: string; creditCode: string },
  objectName: string,
): Promise<Identifier> {
  const requestId = randomUUID();
  const response = await retryWhile(
    'the identifier service to accept IssueIdentifier',
    [GrpcStatus.UNAVAILABLE, GrpcStatus.FAILED_PRECONDITION],
    () =>
      api.identifiers.issueIdentifier(
        {
          requestId,
          objectType: ObjectType.OBJECT_TYPE_RESOURCE_POOL,
          objectName,
          ownerParticipantId: '',
          ownerName: owner.name,
          ownerCreditCode: owner.creditCode,
          attributes: { region: '310115', accelerator: 'GPU', capacity_pflops: '120' },
        },
        as(token),
      ),
    SETTLE_MS,
  );
  expect(response.created).toBe(true);
  return response.identifier!;
}
