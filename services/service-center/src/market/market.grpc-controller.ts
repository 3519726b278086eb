import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { Audited, ReadOnly } from '@cinode/audit';
import { AllowRoles, callerOf } from '@cinode/auth';
import type {
  CancelOrderRequest,
  CancelOrderResponse,
  GetDemandRequest,
  GetDemandResponse,
  GetOrderRequest,
  GetOrderResponse,
  ListDemandsRequest,
  ListDemandsResponse,
  ListOrdersRequest,
  ListOrdersResponse,
  MarketServiceController,
  PlaceOrderRequest,
  PlaceOrderResponse,
  SubmitDemandRequest,
  SubmitDemandResponse,
} from '@cinode/proto/gen/cinode/market/v1/market_service';
import { toDemandRecord, toOrderMessage } from './market.mapper';
import { MarketService } from './market.service';

const SERVICE = 'MarketService';
/** Who buys: users for themselves, resellers for their customers. */
const BUYERS = ['user', 'reseller'] as const;
/** Who reads: buyers (their own), and operators and regulators (every one). */
const READERS = [...BUYERS, 'operator', 'regulator'] as const;

@Controller()
export class MarketGrpcController implements MarketServiceController {
  constructor(private readonly market: MarketService) {}

  @GrpcMethod(SERVICE, 'SubmitDemand')
  @AllowRoles(...BUYERS)
  @Audited('demand', 'created', 'demand.demandId')
  async submitDemand(
    request: SubmitDemandRequest,
    metadata: Metadata,
  ): Promise<SubmitDemandResponse> {
    const { demand, created } = await this.market.submitDemand(callerOf(metadata), request);
    return { demand: toDemandRecord(demand), created };
  }

  @GrpcMethod(SERVICE, 'GetDemand')
  @AllowRoles(...READERS)
  @ReadOnly()
  async getDemand(request: GetDemandRequest, metadata: Metadata): Promise<GetDemandResponse> {
    return {
      demand: toDemandRecord(await this.market.getDemand(callerOf(metadata), request.demandId)),
    };
  }

  @GrpcMethod(SERVICE, 'ListDemands')
  @AllowRoles(...READERS)
  @ReadOnly()
  async listDemands(request: ListDemandsRequest, metadata: Metadata): Promise<ListDemandsResponse> {
    const { demands, nextPageToken } = await this.market.listDemands(callerOf(metadata), request);
    return { demands: demands.map(toDemandRecord), nextPageToken };
  }

  @GrpcMethod(SERVICE, 'PlaceOrder')
  @AllowRoles(...BUYERS)
  @Audited('order', 'created', 'order.orderId')
  async placeOrder(request: PlaceOrderRequest, metadata: Metadata): Promise<PlaceOrderResponse> {
    const { order, created } = await this.market.placeOrder(callerOf(metadata), request);
    return { order: toOrderMessage(order), created };
  }

  @GrpcMethod(SERVICE, 'CancelOrder')
  @AllowRoles(...BUYERS, 'operator')
  @Audited('order', 'orderId')
  async cancelOrder(request: CancelOrderRequest, metadata: Metadata): Promise<CancelOrderResponse> {
    return {
      order: toOrderMessage(
        await this.market.cancelOrder(callerOf(metadata), request.orderId, request.reason),
      ),
    };
  }

  @GrpcMethod(SERVICE, 'GetOrder')
  @AllowRoles(...READERS)
  @ReadOnly()
  async getOrder(request: GetOrderRequest, metadata: Metadata): Promise<GetOrderResponse> {
    return {
      order: toOrderMessage(await this.market.getOrder(callerOf(metadata), request.orderId)),
    };
  }

  @GrpcMethod(SERVICE, 'ListOrders')
  @AllowRoles(...READERS)
  @ReadOnly()
  async listOrders(request: ListOrdersRequest, metadata: Metadata): Promise<ListOrdersResponse> {
    const { orders, nextPageToken } = await this.market.listOrders(callerOf(metadata), request);
    return { orders: orders.map(toOrderMessage), nextPageToken };
  }
}
