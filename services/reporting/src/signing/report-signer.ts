import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  sign,
  type KeyObject,
} from 'node:crypto';
import { reportSigningMessage, type ReportEnvelope } from '@cinode/contracts';
import { UnitOfWork } from '@cinode/database';
import { InjectConfig } from '@cinode/kit';
import { encryptionKeyOf, type ReportingConfig } from '../config';
import { decryptSecret, encryptSecret } from '@cinode/common';
import type { SigningKeyEntity } from './signing-key.entity';
import { SigningKeysRepository } from './signing-keys.repository';

export interface SigningKey {
  keyId: string;
  /** The raw 32-byte Ed25519 public key, as the national node registers it. */
  publicKey: Buffer;
  privateKey: KeyObject;
}

/** The id of a raw public key: lower-case hex SHA-256, the national node's key id. */
export function keyIdOf(publicKey: Buffer): string {
  return createHash('sha256').update(publicKey).digest('hex');
}

/** A new Ed25519 key pair with its raw public key. */
export function newSigningKey(): SigningKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  return { keyId: keyIdOf(raw), publicKey: raw, privateKey };
}

/** The Ed25519 signature of a report: over its envelope and the payload's SHA-256. */
export function signReport(envelope: ReportEnvelope, privateKey: KeyObject): Buffer {
  return sign(null, reportSigningMessage(envelope), privateKey);
}

/**
 * The key reports are signed with: made by the first replica that starts, kept encrypted in the
 * database, the same for every replica.
 */
@Injectable()
export class ReportSigner implements OnApplicationBootstrap {
  private readonly logger = new Logger(ReportSigner.name);
  private readonly encryptionKey: Buffer;
  private current: SigningKey | undefined;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly keys: SigningKeysRepository,
    @InjectConfig() config: ReportingConfig,
  ) {
    const { key, development } = encryptionKeyOf(config);
    this.encryptionKey = key;
    if (development)
      this.logger.warn(
        'REPORT_KEY_ENCRYPTION_KEY is not set: the report-signing key is encrypted with the public development key',
      );
  }

  /** The signing key, created on first use when the database has none. */
  async key(): Promise<SigningKey> {
    if (this.current) return this.current;
    const stored =
      (await this.keys.findCurrent()) ??
      (await this.uow.run(async (tx) => {
        await this.keys.lockExclusive(tx);
        const existing = await this.keys.findCurrent(tx);
        if (existing) return existing;
        const created = newSigningKey();
        const row: SigningKeyEntity = {
          keyId: created.keyId,
          publicKey: created.publicKey,
          privateKeyEncrypted: encryptSecret(
            created.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
            this.encryptionKey,
            created.keyId,
          ),
          createdAt: new Date(),
          registeredAt: null,
          nodeCode: null,
        };
        await this.keys.insert(tx, row);
        this.logger.log(`created the report-signing key ${created.keyId}`);
        return row;
      }));
    let pem: string;
    try {
      pem = decryptSecret(stored.privateKeyEncrypted, this.encryptionKey, stored.keyId);
    } catch {
      throw new Error(
        `REPORT_KEY_ENCRYPTION_KEY does not open the report-signing key ${stored.keyId} stored in the database: reporting was started with another key than the one that sealed it. Start it with that key (the chart keeps it in the <release>-reporting secret).`,
      );
    }
    this.current = {
      keyId: stored.keyId,
      publicKey: stored.publicKey,
      privateKey: createPrivateKey(pem),
    };
    return this.current;
  }

  /** Opens (or makes) the key at start: a key-encryption key that cannot open it stops the start. */
  async onApplicationBootstrap(): Promise<void> {
    await this.key();
  }

  async sign(envelope: ReportEnvelope): Promise<{ keyId: string; signature: Buffer }> {
    const key = await this.key();
    return { keyId: key.keyId, signature: signReport(envelope, key.privateKey) };
  }

  async markRegistered(keyId: string, nodeCode: string): Promise<void> {
    await this.keys.markRegistered(keyId, nodeCode);
  }
}
