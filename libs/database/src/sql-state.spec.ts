import { DomainError } from '@cinode/common';
import { QueryFailedError } from 'typeorm';
import { asConflictError, isStatementCancelled, sqlStateOf } from './sql-state';

function queryFailed(code: string): QueryFailedError {
  return new QueryFailedError('UPDATE ...', [], Object.assign(new Error('refused'), { code }));
}

describe(asConflictError.name, () => {
  it('turns a lost race (serialization failure, deadlock) into ABORTED, keeping the cause', () => {
    for (const code of ['40001', '40P01']) {
      const original = queryFailed(code);
      const mapped = asConflictError(original);
      expect(mapped).toBeInstanceOf(DomainError);
      expect(mapped).toMatchObject({ kind: 'ABORTED', reason: 'TRANSACTION_CONFLICT' });
      expect((mapped as Error).cause).toBe(original);
    }
  });

  it('leaves every other error as it is', () => {
    for (const error of [queryFailed('23505'), queryFailed('57014'), new Error('x'), 'text']) {
      expect(asConflictError(error)).toBe(error);
    }
  });
});

describe(sqlStateOf.name, () => {
  it('reads the SQLSTATE of bare and wrapped Postgres errors, and nothing else', () => {
    expect(sqlStateOf(queryFailed('22P02'))).toBe('22P02');
    expect(sqlStateOf(Object.assign(new Error('x'), { code: '57014' }))).toBe('57014');
    expect(isStatementCancelled(queryFailed('57014'))).toBe(true);
    expect(sqlStateOf(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBeUndefined();
    expect(sqlStateOf(null)).toBeUndefined();
  });
});
