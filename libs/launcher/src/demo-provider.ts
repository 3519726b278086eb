import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata, credentials, status as GrpcStatus } from '@grpc/grpc-js';
import { createGrpcClient, isGrpcError, type PromiseClient } from '@cinode/grpc';
import type { TokenServiceClient } from '@cinode/proto/gen/cinode/credential/v1/token_service';
import {
  ApiKeyState,
  ParticipantKind,
  ParticipantState,
  UserCategory,
  type ApiKeyServiceClient,
  type CertificationServiceClient,
  type ParticipantServiceClient,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';

/** The local demo provider: the same registration every time, so a retry finds it again. */
const PROVIDER_REQUEST_ID = 'npm-start-demo-provider';
const CERTIFY_REQUEST_ID = 'npm-start-demo-provider-certify';
const PROVIDER_NAME = 'Local Demo Compute Co. (npm start)';
/** A valid unified social credit code (GB 32100-2015 check character), fixed for the demo. */
const PROVIDER_CREDIT_CODE = '91310115MA1L0CAL0R';
const CALL_TIMEOUT_MS = 10_000;

export interface DemoProvider {
  /** The file holding its API key (mode 0600). */
  apiKeyFile: string;
  participantId: string;
  /** True when this call registered and certified it. */
  created: boolean;
}

/**
 * The certified compute provider `npm start` runs its provider agent as: registered, reviewed and
 * certified by the bootstrap operator on the first start, its API key kept in `dir` and reused
 * afterwards. A key the node no longer accepts (its database was reset) is replaced.
 */
export async function ensureDemoProvider(options: {
  dir: string;
  serviceCenterAddress: string;
  operatorApiKey: string;
}): Promise<DemoProvider> {
  const client = <C>(service: string): { api: PromiseClient<C>; close(): void } =>
    createGrpcClient<C>(service, {
      address: options.serviceCenterAddress,
      credentials: credentials.createInsecure(),
      defaultTimeoutMs: CALL_TIMEOUT_MS,
    });
  const tokens = client<TokenServiceClient>('cinode.credential.v1.TokenService');
  const participants = client<ParticipantServiceClient>('cinode.participant.v1.ParticipantService');
  const certification = client<CertificationServiceClient>(
    'cinode.participant.v1.CertificationService',
  );
  const apiKeys = client<ApiKeyServiceClient>('cinode.participant.v1.ApiKeyService');
  const apiKeyFile = join(options.dir, 'api-key');
  try {
    if (existsSync(apiKeyFile)) {
      try {
        const issued = await tokens.api.issueToken({
          apiKey: readFileSync(apiKeyFile, 'utf8').trim(),
        });
        return { apiKeyFile, participantId: issued.participantId, created: false };
      } catch (error) {
        if (!isGrpcError(error, GrpcStatus.UNAUTHENTICATED)) throw error;
      }
    }
    const operator = await tokens.api.issueToken({ apiKey: options.operatorApiKey });
    const asOperator = { metadata: bearer(operator.accessToken) };
    const { participant } = await participants.api.createParticipant({
      requestId: PROVIDER_REQUEST_ID,
      kind: ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER,
      userCategory: UserCategory.USER_CATEGORY_UNSPECIFIED,
      name: PROVIDER_NAME,
      organization: {
        creditCode: PROVIDER_CREDIT_CODE,
        address: '1 Demo Road, Pudong New Area, Shanghai',
        contactPerson: {
          name: 'Wang Fang',
          title: 'Operations engineer',
          mobile: '13800138000',
          email: 'ops@demo-compute.example.cn',
        },
        responsiblePerson: {
          name: 'Zhao Lei',
          title: 'General manager',
          mobile: '13900139000',
          email: 'gm@demo-compute.example.cn',
        },
      },
      individual: undefined,
    });
    if (!participant) throw new Error('CreateParticipant answered no participant');
    const participantId = participant.id;
    if (participant.state === ParticipantState.PARTICIPANT_STATE_SUBMITTED)
      await certification.api.startReview(
        { participantId, reason: 'local demo provider of npm start' },
        asOperator,
      );
    let secret = '';
    if (participant.state !== ParticipantState.PARTICIPANT_STATE_CERTIFIED) {
      const certified = await certification.api.certifyParticipant(
        {
          participantId,
          reason: 'local demo provider of npm start',
          requestId: CERTIFY_REQUEST_ID,
        },
        asOperator,
      );
      secret = certified.issuedApiKey?.apiKeySecret ?? '';
    }
    if (secret === '') {
      // Certified before, its key shown then and lost since: the operator rotates the active one.
      const { apiKeys: keys } = await apiKeys.api.listApiKeys(
        { participantId, pageSize: 50, pageToken: '' },
        asOperator,
      );
      const active = keys.find((k) => k.state === ApiKeyState.API_KEY_STATE_ACTIVE);
      if (!active) throw new Error(`the demo provider ${participantId} has no active API key`);
      const rotated = await apiKeys.api.rotateApiKey(
        { requestId: `npm-start-rotate-${Date.now()}`, apiKeyId: active.id },
        asOperator,
      );
      secret = rotated.issuedApiKey?.apiKeySecret ?? '';
      if (secret === '') throw new Error('RotateApiKey answered no key');
    }
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    writeFileSync(apiKeyFile, `${secret}\n`, { mode: 0o600 });
    return { apiKeyFile, participantId, created: true };
  } finally {
    for (const c of [tokens, participants, certification, apiKeys]) c.close();
  }
}

function bearer(token: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}
