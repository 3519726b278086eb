import { Injectable } from '@nestjs/common';
import { FieldChecks, NotFoundError } from '@cinode/common';
import {
  NATIONAL_REPORT_WINDOWS,
  addCstDays,
  cstDateOf,
  cstMidnight,
  windowBounds,
} from '@cinode/contracts';
import { ErrorReason } from '../errors';
import type { Caller } from '@cinode/auth';
import { actsFor } from '../nodes/node-access';
import { NodesRepository } from '../nodes/nodes.repository';
import { NODE_CODE_RULES } from '../nodes/nodes.service';
import {
  SpecialRequestsRepository,
  type SpecialRequestDay,
} from '../special-requests/special-requests.repository';
import { ComplianceRepository, type ReceivedDaily } from './compliance.repository';

export const MAX_COMPLIANCE_DAYS = 92;
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

export interface WindowOutcome {
  window: string;
  start: Date;
  end: Date;
  received: ReceivedDaily[];
}

export interface DayOutcome {
  date: string;
  met: boolean;
  windows: WindowOutcome[];
  outsideWindows: number;
  /** The special report requests issued that day, and how they were answered. */
  special: SpecialRequestDay;
}

/** Sorts a day's received daily reports into the three windows (the timing indicator of seed 004). */
export function dayOutcome(
  date: string,
  received: readonly ReceivedDaily[],
  special: SpecialRequestDay = { date, issued: 0, onTime: 0, late: 0, open: 0, missed: 0 },
): DayOutcome {
  const windows = NATIONAL_REPORT_WINDOWS.map((w) => {
    const { start, end } = windowBounds(date, w);
    return {
      window: w.name,
      start,
      end,
      received: received.filter((r) => r.receivedAt >= start && r.receivedAt < end),
    };
  });
  const inside = windows.reduce((n, w) => n + w.received.length, 0);
  return {
    date,
    met: windows.some((w) => w.received.length > 0),
    windows,
    outsideWindows: received.length - inside,
    special,
  };
}

@Injectable()
export class ComplianceService {
  constructor(
    private readonly nodes: NodesRepository,
    private readonly compliance: ComplianceRepository,
    private readonly specialRequests: SpecialRequestsRepository,
  ) {}

  async list(
    nodeCode: string,
    startDate: string,
    endDateInput: string,
    caller: Caller,
  ): Promise<DayOutcome[]> {
    const checks = new FieldChecks().text('node_code', nodeCode, NODE_CODE_RULES);
    const endDate = endDateInput || startDate;
    const start = parseDate(checks, 'start_date', startDate);
    const end = parseDate(checks, endDateInput ? 'end_date' : 'start_date', endDate);
    if (start && end) {
      const days = Math.round((end.getTime() - start.getTime()) / 86_400_000) + 1;
      if (days < 1) checks.add('end_date', 'must not be before start_date');
      else if (days > MAX_COMPLIANCE_DAYS)
        checks.add('end_date', `must be at most ${MAX_COMPLIANCE_DAYS} days from start_date`);
    }
    checks.throwIfAny();
    const node = await this.nodes.findByCode(nodeCode);
    // A node's service sees only its own node's record.
    if (!node || !actsFor(caller, node))
      throw new NotFoundError(ErrorReason.NODE_NOT_FOUND, `node ${nodeCode} is not registered`);

    const from = cstMidnight(startDate);
    const to = cstMidnight(addCstDays(endDate, 1));
    const received = await this.compliance.dailyReceived(nodeCode, from, to);
    const special = new Map(
      (await this.specialRequests.days(nodeCode, from, to, new Date())).map((d) => [d.date, d]),
    );
    const outcomes: DayOutcome[] = [];
    for (let date = startDate; date <= endDate; date = addCstDays(date, 1)) {
      outcomes.push(
        dayOutcome(
          date,
          received.filter((r) => cstDateOf(r.receivedAt) === date),
          special.get(date),
        ),
      );
    }
    return outcomes;
  }
}

function parseDate(checks: FieldChecks, field: string, value: string): Date | undefined {
  if (!DATE_PATTERN.test(value)) {
    checks.add(field, value ? 'must be a date, YYYY-MM-DD' : 'is required');
    return undefined;
  }
  try {
    return cstMidnight(value);
  } catch {
    checks.add(field, 'is no calendar date');
    return undefined;
  }
}
