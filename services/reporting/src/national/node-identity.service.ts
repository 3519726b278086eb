import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectConfig } from '@cinode/kit';
import { NodeType } from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import type { ReportingConfig } from '../config';
import { ReportSigner } from '../signing/report-signer';
import { NationalNodeGateway, type NationalNode } from './national-node.gateway';

/**
 * The node's code at the national node, and the registration of the report-signing key for it.
 * Both calls are idempotent there (RegisterNode on NODE_KEY, RegisterReportSigningKey on the key),
 * so every start asks again instead of trusting a stored copy; until they succeed nothing is sent.
 */
@Injectable()
export class NodeIdentityService {
  private readonly logger = new Logger(NodeIdentityService.name);
  private nodeCode: string | undefined;

  constructor(
    @InjectConfig() private readonly config: ReportingConfig,
    @Inject(NationalNodeGateway) private readonly nationalNode: NationalNode,
    private readonly signer: ReportSigner,
  ) {}

  /** The node code, registering the node and the signing key first if this process has not. */
  async ensure(): Promise<string> {
    if (this.nodeCode) return this.nodeCode;
    const { node } = await this.nationalNode.registerNode({
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
    if (!node?.nodeCode) throw new Error('the national node answered RegisterNode without a node');
    const key = await this.signer.key();
    await this.nationalNode.registerReportSigningKey({
      nodeCode: node.nodeCode,
      publicKey: key.publicKey,
    });
    await this.signer.markRegistered(key.keyId, node.nodeCode);
    this.logger.log(`node ${node.nodeCode}: report-signing key ${key.keyId} registered`);
    this.nodeCode = node.nodeCode;
    return node.nodeCode;
  }

  /** Whether this process has registered the node and its key (its node code is known). */
  registered(): boolean {
    return this.nodeCode !== undefined;
  }

  /** Forgets the registration, so the next send registers again (the national node lost it). */
  reset(): void {
    this.nodeCode = undefined;
  }
}
