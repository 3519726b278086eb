import { Injectable } from '@nestjs/common';
import type { Tx } from '@cinode/database';
import type { PoolLiveStateEntity } from './pool-live-state.entity';

@Injectable()
export class PoolStatesRepository {
  /**
   * Stores each state unless a version at least as new is stored, in one statement (the states
   * travel as one JSON document); of several states of one pool, the newest. Returns the
   * identifiers it stored.
   */
  async apply(tx: Tx, states: PoolLiveStateEntity[]): Promise<string[]> {
    const newest = new Map<string, PoolLiveStateEntity>();
    for (const state of states) {
      const held = newest.get(state.identifier);
      if (!held || held.version < state.version) newest.set(state.identifier, state);
    }
    if (newest.size === 0) return [];
    const rows = await tx.manager.query<Array<{ identifier: string }>>(
      `INSERT INTO pool_live_state (identifier, version, state, reported, cpu_cores_free,
           gpu_cards_free, npu_cards_free, fp16_tflops_free, fp32_tflops_free, memory_gib_free,
           storage_gib_free, last_reported_at, updated_at)
         SELECT identifier, version, state, reported, cpu_cores_free, gpu_cards_free,
           npu_cards_free, fp16_tflops_free, fp32_tflops_free, memory_gib_free, storage_gib_free,
           last_reported_at, updated_at
         FROM jsonb_to_recordset($1::jsonb) AS v(identifier varchar, version bigint,
           state varchar, reported boolean, cpu_cores_free bigint, gpu_cards_free bigint,
           npu_cards_free bigint, fp16_tflops_free double precision,
           fp32_tflops_free double precision, memory_gib_free bigint, storage_gib_free bigint,
           last_reported_at timestamptz, updated_at timestamptz)
         ON CONFLICT (identifier) DO UPDATE SET
           version = EXCLUDED.version, state = EXCLUDED.state, reported = EXCLUDED.reported,
           cpu_cores_free = EXCLUDED.cpu_cores_free, gpu_cards_free = EXCLUDED.gpu_cards_free,
           npu_cards_free = EXCLUDED.npu_cards_free, fp16_tflops_free = EXCLUDED.fp16_tflops_free,
           fp32_tflops_free = EXCLUDED.fp32_tflops_free, memory_gib_free = EXCLUDED.memory_gib_free,
           storage_gib_free = EXCLUDED.storage_gib_free, last_reported_at = EXCLUDED.last_reported_at,
           updated_at = EXCLUDED.updated_at
         WHERE pool_live_state.version < EXCLUDED.version
         RETURNING identifier`,
      [
        JSON.stringify(
          [...newest.values()].map((s) => ({
            identifier: s.identifier,
            version: s.version,
            state: s.state,
            reported: s.reported,
            cpu_cores_free: s.cpuCoresFree,
            gpu_cards_free: s.gpuCardsFree,
            npu_cards_free: s.npuCardsFree,
            fp16_tflops_free: s.fp16TflopsFree,
            fp32_tflops_free: s.fp32TflopsFree,
            memory_gib_free: s.memoryGibFree,
            storage_gib_free: s.storageGibFree,
            last_reported_at: s.lastReportedAt?.toISOString() ?? null,
            updated_at: s.updatedAt.toISOString(),
          })),
        ),
      ],
    );
    return rows.map((r) => r.identifier);
  }
}
