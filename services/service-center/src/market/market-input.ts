import { FieldChecks, NotFoundError, ValidationError } from '@cinode/common';
import type { HeldData } from '@cinode/contracts';
import type { Pool } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { AcceleratorKind } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type { Demand, Weights } from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import { checkSelectRequest } from '@cinode/selection';
import { ErrorReason } from '../errors';
import { checkRequestId, checkUuid } from '../request-checks';

/** Pool identifiers as resource aggregation issues them (case-insensitive). */
const POOL_ID = /^[A-Za-z0-9.:_-]{1,64}$/;

/** Runs the checks of `check` into `checks` instead of throwing its own violations. */
export function collectViolations(checks: FieldChecks, check: () => void): void {
  try {
    check();
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    for (const v of error.fieldViolations) checks.add(v.field, v.description);
  }
}

/** Checks a SubmitDemand request; the demand as compute selection checks it (`demand.*`). */
export function checkSubmitDemand(
  request: {
    requestId: string;
    customerReference: string;
    demand: Demand | undefined;
    weights: Weights | undefined;
    topK: number;
  },
  actsForCustomers: boolean,
): void {
  const checks = new FieldChecks();
  checkRequestId(checks, request.requestId);
  if (actsForCustomers)
    checks.text('customer_reference', request.customerReference, { max: 128, line: true });
  else if (request.customerReference !== '')
    checks.add('customer_reference', 'is only for resellers acting for a customer');
  collectViolations(checks, () =>
    checkSelectRequest(request.demand, request.weights, request.topK),
  );
  const d = request.demand;
  // An order holds cores, memory, storage or cards: a demand for none of them cannot be ordered.
  if (
    d &&
    d.cpuCores === 0 &&
    d.memoryGib === 0 &&
    d.storageGib === 0 &&
    (d.acceleratorCount === 0 || d.acceleratorModel.trim() === '')
  )
    checks.add(
      'demand',
      'must ask for some capacity: cpu_cores, memory_gib, storage_gib or accelerator_count',
    );
  checks.throwIfAny();
}

export function checkPlaceOrder(request: {
  requestId: string;
  demandId: string;
  poolId: string;
}): void {
  const checks = new FieldChecks();
  checkRequestId(checks, request.requestId);
  checkUuid(checks, 'demand_id', request.demandId, 'a demand id');
  checks.text('pool_id', request.poolId, {
    max: 64,
    pattern: POOL_ID,
    patternHint: 'must be a pool identifier',
  });
  checks.throwIfAny();
}

export function checkId(field: string, value: string, what: string): void {
  const checks = new FieldChecks();
  checkUuid(checks, field, value, what);
  checks.throwIfAny();
}

export function demandNotFound(id: string): NotFoundError {
  return new NotFoundError(ErrorReason.DEMAND_NOT_FOUND, `demand ${id} does not exist`);
}

export function orderNotFound(id: string): NotFoundError {
  return new NotFoundError(ErrorReason.ORDER_NOT_FOUND, `order ${id} does not exist`);
}

/**
 * What a hold for the demand takes of the pool: its cores, memory and storage, and its
 * accelerator cards counted as GPU or NPU cards by the pool's accelerator of that model;
 * undefined when the pool no longer has that model.
 */
export function holdResourcesOf(demand: Demand, pool: Pool): HeldData | undefined {
  const model = demand.acceleratorModel.trim().toLowerCase();
  const cards = model === '' ? 0 : demand.acceleratorCount;
  const accelerator = pool.spec?.accelerators.find((a) => a.model.toLowerCase() === model);
  // The pool no longer offers the model the demand asks cards of.
  if (cards > 0 && !accelerator) return undefined;
  const npu = accelerator?.kind === AcceleratorKind.ACCELERATOR_KIND_NPU;
  return {
    cpuCores: demand.cpuCores,
    gpuCards: npu ? 0 : cards,
    npuCards: npu ? cards : 0,
    memoryGib: demand.memoryGib,
    storageGib: demand.storageGib,
  };
}
