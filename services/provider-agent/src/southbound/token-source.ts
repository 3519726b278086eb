import type { PromiseClient } from '@cinode/grpc';
import { fromTimestamp } from '@cinode/grpc';
import type { TokenServiceClient } from '@cinode/proto/gen/cinode/credential/v1/token_service';

/** Refresh once this share of a token's lifetime has passed. */
const REFRESH_AT = 0.75;

/**
 * The provider's token: its API key exchanged at the service center (IssueToken), exchanged again
 * before the token expires. Concurrent callers share one exchange.
 */
export class TokenSource {
  private current: { token: string; refreshAtMs: number } | undefined;
  private pending: Promise<string> | undefined;
  /** The participant the key belongs to, known after the first exchange. */
  participantId = '';

  constructor(
    private readonly tokens: PromiseClient<TokenServiceClient>,
    private readonly apiKey: string,
    private readonly now: () => number = Date.now,
  ) {}

  async token(): Promise<string> {
    if (this.current && this.now() < this.current.refreshAtMs) return this.current.token;
    this.pending ??= this.exchange().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async exchange(): Promise<string> {
    const issuedAt = this.now();
    const response = await this.tokens.issueToken({ apiKey: this.apiKey });
    const expiresAt = response.expiresAt ? fromTimestamp(response.expiresAt).getTime() : issuedAt;
    this.participantId = response.participantId;
    this.current = {
      token: response.accessToken,
      refreshAtMs: issuedAt + (expiresAt - issuedAt) * REFRESH_AT,
    };
    return response.accessToken;
  }
}
