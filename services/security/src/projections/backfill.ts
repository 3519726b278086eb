import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { status as GrpcStatus, type ChannelCredentials } from '@grpc/grpc-js';
import { ServiceTokenSource } from '@cinode/auth';
import { Periodic } from '@cinode/common';
import { UnitOfWork } from '@cinode/database';
import { createGrpcClient, type GrpcClient } from '@cinode/grpc';
import { InjectConfig, InjectPeerCredentials } from '@cinode/kit';
import {
  ParticipantKind,
  ParticipantState,
  type ParticipantServiceClient,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import {
  PoolState,
  type ResourceServiceClient,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type { SecurityConfig } from '../config';
import { RiskService } from '../risk/risk.service';
import { ParticipantsRepository } from './participants.repository';

const PAGE_SIZE = 500;
/** Pools assessed per transaction when a backfill finds new ones. */
const ASSESS_BATCH = 100;
/** How soon a first backfill that failed is tried again. */
const FIRST_RETRY_MS = 10_000;

/**
 * Fills the projections from the services that own the data, at start and every
 * BACKFILL_INTERVAL_MS: the events keep them current, but a stream keeps 7 days, so a pool
 * registered (or a participant certified) before this service was installed, or before a long
 * outage, would otherwise stay unknown — a quarantined provider's old pools would stay selectable.
 * What it adds has version 0: any event (version 1 and up) wins over it. A round that fails (a peer
 * away) is logged and the next one tries again; the first retries every minute until it succeeds.
 */
@Injectable()
export class ProjectionBackfill implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ProjectionBackfill.name);
  private readonly pools: GrpcClient<ResourceServiceClient>;
  private readonly participantsClient: GrpcClient<ParticipantServiceClient>;
  private readonly periodic: Periodic;
  private readonly firstRound: Periodic;
  private done = false;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly participants: ParticipantsRepository,
    private readonly risk: RiskService,
    @InjectConfig() config: SecurityConfig,
    @InjectPeerCredentials() credentials: ChannelCredentials,
    tokens: ServiceTokenSource,
  ) {
    const common = {
      credentials,
      defaultTimeoutMs: config.PEER_TIMEOUT_MS,
      token: () => tokens.token(),
    };
    this.pools = createGrpcClient<ResourceServiceClient>('cinode.resource.v1.ResourceService', {
      address: config.RESOURCE_AGGREGATION_ADDRESS,
      ...common,
    });
    this.participantsClient = createGrpcClient<ParticipantServiceClient>(
      'cinode.participant.v1.ParticipantService',
      { address: config.SERVICE_CENTER_ADDRESS, ...common },
    );
    this.periodic = new Periodic(
      'projection backfill',
      config.BACKFILL_INTERVAL_MS,
      () => this.backfill(),
      this.logger,
    );
    // The first backfill runs at start, when the services it reads may be starting too (they start
    // side by side): a peer not answering yet is a warning, tried again every FIRST_RETRY_MS.
    this.firstRound = new Periodic(
      'first projection backfill',
      FIRST_RETRY_MS,
      async () => {
        if (this.done) return;
        await this.backfill();
        this.done = true;
      },
      {
        error: (context: unknown, message: unknown) => {
          const err = (context as { err?: { code?: unknown; message?: unknown } } | undefined)?.err;
          if (err?.code === GrpcStatus.UNAVAILABLE)
            this.logger.warn(
              `${String(message)} (a peer is not serving yet): ${String(err.message)}`,
            );
          else this.logger.error(context, message);
        },
      },
    );
  }

  onApplicationBootstrap(): void {
    void this.firstRound.runOnce();
    this.firstRound.start();
    this.periodic.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.firstRound.stop();
    await this.periodic.stop();
    this.pools.close();
    this.participantsClient.close();
  }

  /** One round: every participant, then every pool; returns how many of each were new here. */
  async backfill(): Promise<{ participants: number; pools: number }> {
    let participants = 0;
    /** Suspended or revoked participants new here: their standing weighs on their risk now. */
    const standing: string[] = [];
    let pageToken = '';
    do {
      const page = await this.participantsClient.api.listParticipants({
        pageSize: PAGE_SIZE,
        pageToken,
        kind: ParticipantKind.PARTICIPANT_KIND_UNSPECIFIED,
        state: ParticipantState.PARTICIPANT_STATE_UNSPECIFIED,
        nameContains: '',
      });
      for (const p of page.participants) {
        const state = ParticipantState[p.state].replace('PARTICIPANT_STATE_', '');
        const added = await this.participants.recordStandingIfAbsent({
          participantId: p.id,
          kind: ParticipantKind[p.kind].replace('PARTICIPANT_KIND_', ''),
          state,
        });
        if (!added) continue;
        participants += 1;
        if (state === 'SUSPENDED' || state === 'REVOKED') standing.push(p.id);
      }
      pageToken = page.nextPageToken;
    } while (pageToken);

    const added: string[] = [];
    pageToken = '';
    do {
      const page = await this.pools.api.listPools({
        providerParticipantId: '',
        state: PoolState.POOL_STATE_UNSPECIFIED,
        regionCode: '',
        pageSize: PAGE_SIZE,
        pageToken,
      });
      await this.uow.run(async (tx) => {
        for (const pool of page.pools)
          if (
            await this.participants.recordPool(tx, {
              poolId: pool.poolId,
              providerParticipantId: pool.providerParticipantId,
              securityLevel: pool.spec?.securityLevel ?? 1,
            })
          )
            added.push(pool.poolId);
      });
      pageToken = page.nextPageToken;
    } while (pageToken);
    for (let i = 0; i < standing.length; i += ASSESS_BATCH) {
      const batch = standing
        .slice(i, i + ASSESS_BATCH)
        .map((id) => ({ kind: 'participant' as const, id }));
      await this.uow.run((tx) => this.risk.reassess(tx, batch));
    }
    // New pools take their provider's quarantine and share of risk.
    for (let i = 0; i < added.length; i += ASSESS_BATCH) {
      const batch = added.slice(i, i + ASSESS_BATCH).map((id) => ({ kind: 'pool' as const, id }));
      await this.uow.run((tx) => this.risk.reassess(tx, batch));
    }
    if (participants + added.length > 0)
      this.logger.log(
        { participants, pools: added.length },
        'projections filled from the services that own them',
      );
    return { participants, pools: added.length };
  }
}
