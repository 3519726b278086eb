import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { WakeableDelay } from '@cinode/common';
import { computeBackoff } from '@cinode/events';
import { InjectConfig } from '@cinode/kit';
import { NodeType } from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import type { IdentifierConfig } from '../config';
import { nodeNotRegistered } from '../errors';
import { isValidNodePrefix } from '../format/identifier-format';
import { NationalNodeGateway, type NationalNode } from '../national/national-node.gateway';
import { NodeRegistrationRepository } from './node-registration.repository';

export interface NodeIdentity {
  nodeCode: string;
  identifierPrefix: string;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Makes sure the node knows its code and identifier prefix. Taken from config for a node registered
 * already, else from the database, else obtained with RegisterNode — retried in the background with
 * backoff and jitter until the national node answers. Meanwhile the service serves (resolution and
 * listing work) and IssueIdentifier fails UNAVAILABLE, so a national node outage at first start
 * does not keep the rest of the node from starting.
 */
@Injectable()
export class NodeRegistrationService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(NodeRegistrationService.name);
  private identity: NodeIdentity | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private readonly delay = new WakeableDelay();

  constructor(
    @InjectConfig() private readonly config: IdentifierConfig,
    private readonly repository: NodeRegistrationRepository,
    @Inject(NationalNodeGateway) private readonly nationalNode: NationalNode,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const stored = await this.repository.find();
    const { NODE_CODE, IDENTIFIER_PREFIX } = this.config;
    if (NODE_CODE && IDENTIFIER_PREFIX) {
      if (
        stored &&
        (stored.nodeCode !== NODE_CODE || stored.identifierPrefix !== IDENTIFIER_PREFIX)
      ) {
        // Identifiers already issued carry the stored prefix; silently switching would fork the namespace.
        throw new Error(
          `NODE_CODE/IDENTIFIER_PREFIX (${IDENTIFIER_PREFIX}) differ from the registration in the database (${stored.identifierPrefix})`,
        );
      }
      this.identity = await this.repository.saveIfAbsent({
        nodeCode: NODE_CODE,
        identifierPrefix: IDENTIFIER_PREFIX,
        nodeKey: this.config.NODE_KEY,
        source: 'config',
      });
      return;
    }
    if (stored) {
      this.identity = stored;
      return;
    }
    this.loop = this.registerUntilDone();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.delay.wake();
    await this.loop;
  }

  /** The node identity, or undefined while registration is still under way. */
  current(): NodeIdentity | undefined {
    return this.identity;
  }

  /** The node identity; UNAVAILABLE (retryable) until the national node has registered the node. */
  require(): NodeIdentity {
    if (this.identity) return this.identity;
    throw nodeNotRegistered(Math.ceil(this.config.REGISTRATION_RETRY_INITIAL_MS / 1000));
  }

  /** One RegisterNode call; stores and adopts the result. Exposed for tests. */
  async registerOnce(): Promise<NodeIdentity> {
    const response = await this.nationalNode.registerNode({
      nodeKey: this.config.NODE_KEY,
      name: this.config.NODE_NAME,
      nodeType:
        this.config.NODE_TYPE === 'regional'
          ? NodeType.NODE_TYPE_REGIONAL
          : NodeType.NODE_TYPE_INDUSTRY,
      regionCode: this.config.NODE_REGION_CODE,
      operatorName: this.config.NODE_OPERATOR_NAME,
      endpoint: '',
    });
    const node = response.node;
    if (
      !node ||
      !isValidNodePrefix(node.identifierPrefix) ||
      !node.identifierPrefix.endsWith(`.${node.nodeCode}`)
    ) {
      throw new Error(
        `the national node answered RegisterNode with an unusable prefix: ${JSON.stringify(node)}`,
      );
    }
    const stored = await this.repository.saveIfAbsent({
      nodeCode: node.nodeCode,
      identifierPrefix: node.identifierPrefix,
      nodeKey: this.config.NODE_KEY,
      source: 'national_node',
    });
    this.identity = stored;
    this.logger.log(
      `registered with the national node as ${stored.nodeCode}, identifier prefix ${stored.identifierPrefix}`,
    );
    return stored;
  }

  private async registerUntilDone(): Promise<void> {
    const policy = {
      initialMs: this.config.REGISTRATION_RETRY_INITIAL_MS,
      maxMs: this.config.REGISTRATION_RETRY_MAX_MS,
    };
    for (let attempt = 1; !this.stopping && !this.identity; attempt++) {
      try {
        await this.registerOnce();
        return;
      } catch (error) {
        const delay = computeBackoff(attempt, policy);
        this.logger.warn(
          `node registration attempt ${attempt} failed, retrying in ${delay} ms: ${describe(error)}`,
        );
        // Stopped meanwhile (its wake came while this attempt ran): no wait.
        if (!this.stopping) await this.delay.wait(delay);
      }
    }
  }
}
