/**
 * Domain errors. They know nothing of transports: each carries a kind (mapped to a canonical gRPC
 * status by the gRPC exception filter), an UPPER_SNAKE reason from the raising domain's own enum,
 * a message safe to show to the caller, and optional structured context.
 */
export type ErrorKind =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'RESOURCE_EXHAUSTED'
  | 'ABORTED'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'CANCELLED';

/** One bad field of a request; `field` is the dotted path using proto field names. */
export interface FieldViolation {
  field: string;
  description: string;
}

export interface DomainErrorOptions {
  /** Extra context for ErrorInfo.metadata, e.g. `{ current_state: 'REJECTED' }`. */
  metadata?: Record<string, string>;
  fieldViolations?: FieldViolation[];
  /** Seconds the caller should wait before retrying, for RESOURCE_EXHAUSTED and UNAVAILABLE. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class DomainError extends Error {
  readonly metadata: Record<string, string>;
  readonly fieldViolations: FieldViolation[];
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly kind: ErrorKind,
    readonly reason: string,
    message: string,
    options: DomainErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.metadata = options.metadata ?? {};
    this.fieldViolations = options.fieldViolations ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export class ValidationError extends DomainError {
  constructor(violations: FieldViolation[], reason = 'INVALID_REQUEST') {
    const summary = violations.map((v) => `${v.field}: ${v.description}`).join('; ');
    super('INVALID_ARGUMENT', reason, `invalid request: ${summary}`, {
      fieldViolations: violations,
    });
  }
}

export class NotFoundError extends DomainError {
  constructor(reason: string, message: string, options?: DomainErrorOptions) {
    super('NOT_FOUND', reason, message, options);
  }
}

export class AlreadyExistsError extends DomainError {
  constructor(reason: string, message: string, options?: DomainErrorOptions) {
    super('ALREADY_EXISTS', reason, message, options);
  }
}

export class FailedPreconditionError extends DomainError {
  constructor(reason: string, message: string, options?: DomainErrorOptions) {
    super('FAILED_PRECONDITION', reason, message, options);
  }
}

export class PermissionDeniedError extends DomainError {
  constructor(reason: string, message: string, options?: DomainErrorOptions) {
    super('PERMISSION_DENIED', reason, message, options);
  }
}

export class UnauthenticatedError extends DomainError {
  constructor(reason: string, message: string, options?: DomainErrorOptions) {
    super('UNAUTHENTICATED', reason, message, options);
  }
}

export class UnavailableError extends DomainError {
  constructor(reason: string, message: string, options?: DomainErrorOptions) {
    super('UNAVAILABLE', reason, message, options);
  }
}

export class ResourceExhaustedError extends DomainError {
  constructor(reason: string, message: string, options?: DomainErrorOptions) {
    super('RESOURCE_EXHAUSTED', reason, message, options);
  }
}
