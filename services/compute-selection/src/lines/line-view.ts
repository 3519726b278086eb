import {
  LineUpdated,
  eventOf,
  type EventContract,
  type EventMessage,
  type LineData,
  type LineStateName,
} from '@cinode/contracts';
import { toTimestamp } from '@cinode/grpc';
import {
  LineHoldState,
  LineState,
  type Line,
  type LineHold,
} from '@cinode/proto/gen/cinode/selection/v1/line_service';
import type { LineHoldEntity, LineHoldStateName } from './line-hold.entity';
import type { LineEntity } from './line.entity';

/** A line's state: its filing first, then whether its provider keeps it in service. */
export function lineStateOf(line: Pick<LineEntity, 'filing' | 'outOfService'>): LineStateName {
  switch (line.filing) {
    case 'pending':
      return 'pending_filing';
    case 'suspended':
      return 'suspended';
    case 'filed':
      return line.outOfService ? 'out_of_service' : 'active';
  }
}

const STATE_MESSAGES: Readonly<Record<LineStateName, LineState>> = {
  pending_filing: LineState.LINE_STATE_PENDING_FILING,
  active: LineState.LINE_STATE_ACTIVE,
  out_of_service: LineState.LINE_STATE_OUT_OF_SERVICE,
  suspended: LineState.LINE_STATE_SUSPENDED,
};

/** The line as its events carry it (and as the replicas' line tables load it). */
export function lineDataOf(line: LineEntity): LineData {
  return {
    lineId: line.lineId,
    version: line.version,
    providerParticipantId: line.providerParticipantId,
    name: line.name,
    endpointA: { regionCode: line.aRegionCode, site: line.aSite },
    endpointB: { regionCode: line.bRegionCode, site: line.bSite },
    bandwidthMbpsTotal: line.bandwidthMbpsTotal,
    bandwidthMbpsFree: line.bandwidthMbpsFree,
    bandwidthMbpsReserved: line.bandwidthMbpsReserved,
    latencyMs: line.latencyMs,
    priceFenPerHour: line.priceFenPerHour,
    availability: line.availability,
    state: lineStateOf(line),
  };
}

/** The event of a line's change, for the outbox. */
export function lineEvent(
  line: LineEntity,
  contract: EventContract<LineData> = LineUpdated,
): EventMessage<LineData> {
  return eventOf(contract, lineDataOf(line));
}

export function toLineMessage(line: LineEntity): Line {
  return {
    lineId: line.lineId,
    providerParticipantId: line.providerParticipantId,
    spec: {
      name: line.name,
      endpointA: { regionCode: line.aRegionCode, site: line.aSite },
      endpointB: { regionCode: line.bRegionCode, site: line.bSite },
      bandwidthMbpsTotal: line.bandwidthMbpsTotal,
      bandwidthMbpsFree: line.bandwidthMbpsFree,
      latencyMs: line.latencyMs,
      priceFenPerHour: line.priceFenPerHour,
      availability: line.availability,
      outOfService: line.outOfService,
    },
    state: STATE_MESSAGES[lineStateOf(line)],
    version: line.version,
    specVersion: line.specVersion,
    registeredAt: toTimestamp(line.registeredAt),
    updatedAt: toTimestamp(line.updatedAt),
    bandwidthMbpsReserved: line.bandwidthMbpsReserved,
  };
}

const HOLD_STATE_MESSAGES: Readonly<Record<LineHoldStateName, LineHoldState>> = {
  held: LineHoldState.LINE_HOLD_STATE_HELD,
  confirmed: LineHoldState.LINE_HOLD_STATE_CONFIRMED,
  released: LineHoldState.LINE_HOLD_STATE_RELEASED,
  expired: LineHoldState.LINE_HOLD_STATE_EXPIRED,
};

/** The stored state a LineHoldState names; undefined for UNSPECIFIED and unknown values. */
export function lineHoldStateNameOf(state: LineHoldState): LineHoldStateName | undefined {
  for (const [name, value] of Object.entries(HOLD_STATE_MESSAGES))
    if (value === state) return name as LineHoldStateName;
  return undefined;
}

export function toLineHoldMessage(hold: LineHoldEntity): LineHold {
  return {
    holdId: hold.holdId,
    lineId: hold.lineId,
    orderReference: hold.orderReference,
    bandwidthMbps: hold.bandwidthMbps,
    state: HOLD_STATE_MESSAGES[hold.state],
    expiresAt: toTimestamp(hold.expiresAt),
    durationHours: hold.durationHours,
    createdAt: toTimestamp(hold.createdAt),
  };
}
