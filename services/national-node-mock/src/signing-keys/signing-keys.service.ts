import { Injectable } from '@nestjs/common';
import { AlreadyExistsError, FailedPreconditionError, FieldChecks } from '@cinode/common';
import { UnitOfWork } from '@cinode/database';
import type { RegisterReportSigningKeyRequest } from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import { contentSha256 } from '../content-hash';
import { ErrorReason, NATIONAL_SCOPE } from '../errors';
import type { Caller } from '@cinode/auth';
import { assertActsFor } from '../nodes/node-access';
import { NodesRepository } from '../nodes/nodes.repository';
import { NODE_CODE_RULES } from '../nodes/nodes.service';
import type { ReportSigningKeyEntity } from './report-signing-key.entity';
import {
  ED25519_PUBLIC_KEY_BYTES,
  ed25519PublicKey,
  isWeakEd25519Key,
  signingKeyIdOf,
} from './report-signature';
import { SigningKeysRepository } from './signing-keys.repository';

@Injectable()
export class SigningKeysService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly keys: SigningKeysRepository,
    private readonly nodes: NodesRepository,
  ) {}

  async register(
    request: RegisterReportSigningKeyRequest,
    caller: Caller,
  ): Promise<{ key: ReportSigningKeyEntity; created: boolean }> {
    const checks = new FieldChecks().text('node_code', request.nodeCode, NODE_CODE_RULES);
    const publicKey = Buffer.from(request.publicKey);
    if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES)
      checks.add(
        'public_key',
        `must be a raw Ed25519 public key of ${ED25519_PUBLIC_KEY_BYTES} bytes`,
      );
    else if (!isUsableKey(publicKey)) checks.add('public_key', 'is not a valid Ed25519 public key');
    checks.throwIfAny();

    const node = await this.nodes.findByCode(request.nodeCode);
    if (!node)
      throw new FailedPreconditionError(
        ErrorReason.NODE_NOT_REGISTERED,
        `node ${request.nodeCode} is not registered`,
      );
    assertActsFor(caller, node);
    const keyId = signingKeyIdOf(publicKey);
    // The key is its own natural key: the same key for the same node again is the same registration.
    const outcome = await this.uow.idempotentInsert(
      {
        scope: NATIONAL_SCOPE,
        requestId: `signing-key:${keyId}`,
        operation: 'RegisterReportSigningKey',
        fingerprint: contentSha256({ nodeCode: request.nodeCode }),
      },
      async (tx) => {
        const key = await this.keys.insert(tx, { keyId, nodeCode: request.nodeCode, publicKey });
        return { result: key, objectId: key.keyId };
      },
      {
        conflict: () =>
          new AlreadyExistsError(
            ErrorReason.SIGNING_KEY_CONFLICT,
            `signing key ${keyId} is registered by another node`,
          ),
      },
    );
    if (outcome.created) return { key: outcome.result, created: true };
    const existing = await this.keys.find(outcome.objectId);
    if (!existing) throw new Error(`signing key ${keyId} was registered but cannot be read`);
    return { key: existing, created: false };
  }
}

function isUsableKey(raw: Buffer): boolean {
  if (isWeakEd25519Key(raw)) return false;
  try {
    ed25519PublicKey(raw);
    return true;
  } catch {
    return false;
  }
}
