import { apiTotalsOf, increment } from './prometheus-text';

describe('apiTotalsOf', () => {
  it('sums the API calls, server errors and handling time, leaving out health and reflection', () => {
    const text = [
      '# HELP grpc_server_handled_total RPCs completed on the server.',
      '# TYPE grpc_server_handled_total counter',
      'grpc_server_handled_total{grpc_service="cinode.market.v1.MarketService",grpc_method="SubmitDemand",grpc_code="OK",service="service-center"} 10',
      'grpc_server_handled_total{grpc_service="cinode.market.v1.MarketService",grpc_method="SubmitDemand",grpc_code="INVALID_ARGUMENT",service="service-center"} 3',
      'grpc_server_handled_total{grpc_service="cinode.market.v1.MarketService",grpc_method="GetDemand",grpc_code="UNAVAILABLE",service="service-center"} 2',
      'grpc_server_handled_total{grpc_service="grpc.health.v1.Health",grpc_method="Check",grpc_code="OK",service="service-center"} 500',
      'grpc_server_handling_seconds_sum{grpc_service="cinode.market.v1.MarketService",grpc_method="SubmitDemand",grpc_code="OK"} 1.5',
      'grpc_server_handling_seconds_sum{grpc_service="grpc.health.v1.Health",grpc_method="Check",grpc_code="OK"} 9',
      'grpc_server_handling_seconds_count{grpc_service="cinode.market.v1.MarketService",grpc_method="SubmitDemand",grpc_code="OK"} 10',
      'process_cpu_seconds_total 4',
      'grpc_server_handled_total{grpc_code="OK"} NaN',
    ].join('\n');
    expect(apiTotalsOf(text)).toEqual({ calls: 15, errors: 2, seconds: 1.5 });
  });
});

describe('increment', () => {
  it('is the difference, the whole value after a restart, and nothing before a first read', () => {
    expect(increment(10, 15)).toBe(5);
    expect(increment(10, 3)).toBe(3);
    expect(increment(undefined, 30)).toBe(0);
  });
});
