import { FailedPreconditionError, DomainError, UnavailableError } from '@cinode/common';
import { ContractViolationError, MalformedEventError } from '@cinode/contracts';
import { Metadata } from '@grpc/grpc-js';
import { QueryFailedError } from 'typeorm';
import { InvalidEnvelopeError } from '../envelope';
import { PermanentEventError, classifyFailure } from './failure-classes';

function queryFailed(code: string): QueryFailedError {
  return new QueryFailedError('INSERT ...', [], Object.assign(new Error('refused'), { code }));
}

function grpcStatus(code: number): Error {
  return Object.assign(new Error(`${code} national node trouble`), {
    code,
    details: 'national node trouble',
    metadata: new Metadata(),
  });
}

describe(classifyFailure.name, () => {
  it('dead-letters at once what retrying cannot fix', () => {
    for (const error of [
      new MalformedEventError('bad data'),
      new ContractViolationError('bad data'),
      new InvalidEnvelopeError('not an envelope'),
      new PermanentEventError('cannot exist'),
      new FailedPreconditionError('X', 'refused by a rule'),
      queryFailed('22001'),
      queryFailed('22P02'),
      queryFailed('23514'),
    ])
      expect([error.message, classifyFailure(error)]).toEqual([error.message, 'permanent']);
  });

  it('retries without limit what an outage or a conflict explains', () => {
    for (const error of [
      new Error('connect ECONNREFUSED 127.0.0.1:5432'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new UnavailableError('DOWN', 'away'),
      new DomainError('ABORTED', 'X', 'conflict'),
      queryFailed('57P01'),
      queryFailed('57014'),
      queryFailed('08006'),
      queryFailed('53300'),
      queryFailed('40001'),
      queryFailed('40P01'),
      queryFailed('55P03'),
      Object.assign(new Error('x'), { code: 'ECONNRESET' }),
      grpcStatus(14),
      grpcStatus(13),
      grpcStatus(16),
    ])
      expect([error.message, classifyFailure(error)]).toEqual([error.message, 'outage']);
  });

  it('gives a bounded number of retries to what nothing explains', () => {
    for (const error of [
      new TypeError("Cannot read properties of undefined (reading 'x')"),
      new Error('the national node filed it without a filing number'),
      queryFailed('23505'),
      queryFailed('23502'),
      queryFailed('42P01'),
      'a thrown string',
    ])
      expect(classifyFailure(error)).toBe('unexplained');
  });
});
