import type { MonitoringDomainName } from '@cinode/contracts';

/** An entry for the feed, before its cursor is assigned. */
export interface FeedEntry {
  eventId: string;
  domain: MonitoringDomainName;
  type: string;
  regionCode: string;
  objectId: string;
  summary: string;
  occurredAt: Date;
}
