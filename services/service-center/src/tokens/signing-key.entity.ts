import type { JWK } from 'jose';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type SigningKeyState = 'active' | 'published' | 'retired';

/** A token-signing key (docs/adr/0001); the private half is encrypted with AES-256-GCM. */
@Entity({ name: 'signing_key' })
@Index('uq_signing_key_single_active', ['state'], { unique: true, where: `"state" = 'active'` })
export class SigningKeyEntity {
  @PrimaryColumn({
    name: 'kid',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'pk_signing_key',
  })
  kid!: string;

  @Column({ name: 'state', type: 'varchar', length: 16 })
  state!: SigningKeyState;

  /** The public JWK (kty, crv, x, kid, alg, use). */
  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk!: JWK;

  /** base64(iv) "." base64(tag) "." base64(ciphertext of the private JWK as JSON). */
  @Column({ name: 'private_jwk_encrypted', type: 'text' })
  privateJwkEncrypted!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /**
   * When it starts signing; null: from its creation (the first key). A rotated-in key is `active`
   * (in the JWKS) from its creation but signs only from here on, so verifiers know it first.
   */
  @Column({ name: 'activates_at', type: 'timestamptz', nullable: true })
  activatesAt!: Date | null;
  /** When it stops (or stopped) signing: its successor's activates_at; null while active. */
  @Column({ name: 'demoted_at', type: 'timestamptz', nullable: true })
  demotedAt!: Date | null;

  /** After this, no token it signed can still be valid: it leaves the JWKS. */
  @Column({ name: 'retire_after', type: 'timestamptz', nullable: true })
  retireAfter!: Date | null;
}
