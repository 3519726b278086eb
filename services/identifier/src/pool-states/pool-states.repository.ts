import { Injectable } from '@nestjs/common';
import type { Tx } from '@cinode/database';
import type { PoolLiveStateEntity } from './pool-live-state.entity';

@Injectable()
export class PoolStatesRepository {
  /** Stores the state unless a version at least as new is stored; returns whether it did. */
  async apply(tx: Tx, state: PoolLiveStateEntity): Promise<boolean> {
    const rows = await tx.manager.query<unknown[]>(
      `INSERT INTO pool_live_state (identifier, version, state, reported, cpu_cores_free,
         gpu_cards_free, npu_cards_free, fp16_tflops_free, fp32_tflops_free, memory_gib_free,
         storage_gib_free, last_reported_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
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
        state.identifier,
        state.version,
        state.state,
        state.reported,
        state.cpuCoresFree,
        state.gpuCardsFree,
        state.npuCardsFree,
        state.fp16TflopsFree,
        state.fp32TflopsFree,
        state.memoryGibFree,
        state.storageGibFree,
        state.lastReportedAt,
        state.updatedAt,
      ],
    );
    return rows.length > 0;
  }
}
