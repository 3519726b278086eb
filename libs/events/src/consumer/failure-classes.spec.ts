import { DomainError, FailedPreconditionError, UnavailableError } from '@cinode/common';
import { MalformedEventError } from '@cinode/contracts';
import { QueryFailedError } from 'typeorm';
import { InvalidEnvelopeError } from '../envelope';
import { PermanentEventError, isPermanentFailure } from './event.consumer';

function queryFailed(code: string): QueryFailedError {
  return new QueryFailedError('INSERT ...', [], Object.assign(new Error('refused'), { code }));
}

describe(isPermanentFailure.name, () => {
  it('dead-letters what retrying cannot fix', () => {
    expect(isPermanentFailure(new MalformedEventError('bad data'))).toBe(true);
    expect(isPermanentFailure(new InvalidEnvelopeError('not an envelope'))).toBe(true);
    expect(isPermanentFailure(new PermanentEventError('cannot exist'))).toBe(true);
    expect(isPermanentFailure(new FailedPreconditionError('X', 'refused by a rule'))).toBe(true);
    expect(isPermanentFailure(queryFailed('22001'))).toBe(true);
    expect(isPermanentFailure(queryFailed('23514'))).toBe(true);
  });

  it('retries what an outage or a race explains', () => {
    expect(isPermanentFailure(new Error('connect ECONNREFUSED 127.0.0.1:5432'))).toBe(false);
    expect(isPermanentFailure(new UnavailableError('DOWN', 'away'))).toBe(false);
    expect(isPermanentFailure(new DomainError('ABORTED', 'X', 'conflict'))).toBe(false);
    expect(isPermanentFailure(queryFailed('57P01'))).toBe(false);
    expect(isPermanentFailure(queryFailed('40001'))).toBe(false);
    expect(isPermanentFailure(queryFailed('23505'))).toBe(false);
    expect(isPermanentFailure(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(false);
  });
});
