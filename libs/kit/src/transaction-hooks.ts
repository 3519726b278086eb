import type { TransactionHook } from '@cinode/database';
import { currentCall } from './call-context';

const AUDIT_RECORD = Symbol('audit record written in this transaction');

/**
 * What the platform does to every unit of work that runs inside a call: refuse to start once the
 * call is aborted, cancel the running statement the moment it is, write the call's audit record
 * before COMMIT, and roll back instead of committing after the abort.
 */
export const callTransactionHook: TransactionHook = {
  begin(control) {
    const call = currentCall();
    if (!call) return;
    if (call.signal.aborted) throw call.abortError();
    const onAbort = (): void => control.cancelRunningStatement();
    call.signal.addEventListener('abort', onAbort, { once: true });
    return () => call.signal.removeEventListener('abort', onAbort);
  },

  /**
   * Bounds every statement of the transaction by what is left of the call's deadline, enforced by
   * Postgres itself: work cut off by the deadline stops even when no cancel can be sent.
   */
  async started(control) {
    const call = currentCall();
    if (!call) return;
    const remaining = call.remainingMs();
    if (call.signal.aborted || remaining <= 0) throw call.abortError();
    await control.tx.manager.query(`SELECT set_config('statement_timeout', $1, true)`, [
      `${Math.ceil(remaining)}ms`,
    ]);
  },

  async beforeCommit(tx) {
    const call = currentCall();
    if (!call) return;
    if (call.audit) {
      const recordId = await call.audit.writeInTransaction(tx);
      if (recordId) tx.marks.set(AUDIT_RECORD, recordId);
    }
    // Checked after the audit insert, as late before COMMIT as it can be.
    if (call.signal.aborted) throw call.abortError();
  },

  afterCommit(tx) {
    const recordId = tx.marks.get(AUDIT_RECORD);
    if (typeof recordId === 'string') currentCall()?.audit?.confirm(recordId);
  },

  afterRollback(tx) {
    const recordId = tx.marks.get(AUDIT_RECORD);
    if (typeof recordId === 'string') currentCall()?.audit?.release(recordId);
  },
};
