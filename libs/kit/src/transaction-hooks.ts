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
