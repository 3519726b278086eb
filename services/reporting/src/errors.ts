/**
 * Every ErrorInfo reason reporting answers with, besides the platform's (INVALID_REQUEST,
 * REQUEST_ID_REUSED, ...). The proto comments of each RPC list the ones it may return.
 */
export enum ErrorReason {
  REPORT_NOT_FOUND = 'REPORT_NOT_FOUND',
  /** ResendReport: the entry is a gap, there is nothing to send. */
  REPORT_MISSED = 'REPORT_MISSED',
  /** RebuildReport: only a rejected report is built again. */
  REPORT_NOT_REJECTED = 'REPORT_NOT_REJECTED',
  /** RebuildReport: an attempt to deliver it is still under way. */
  REPORT_IN_FLIGHT = 'REPORT_IN_FLIGHT',
  /** RebuildReport: the national node answered ALREADY_EXISTS: it holds a report under that id. */
  REPORT_HELD_NATIONALLY = 'REPORT_HELD_NATIONALLY',
  /** ResendReport: the report was built again; the rebuild is the one to send. */
  REPORT_SUPERSEDED = 'REPORT_SUPERSEDED',
  /** RebuildReport: a source of the report's content cannot be asked; nothing changed. */
  BUILD_FAILED = 'BUILD_FAILED',
}
