import type { ReportPayloadV1 } from './national-report';

/**
 * A complete version-1 payload: documentation of the schema by example, and the fixture tests of
 * the reporting service and the national node mock start from. Returns a fresh copy each call.
 */
export function exampleReportPayload(): ReportPayloadV1 {
  const person = { name: '张三', title: '主任', mobile: '+8613800000000', email: 'a@example.cn' };
  return {
    base: {
      organization_name: '示例算力基地运营有限公司',
      city: '上海',
      entity_type: 'enterprise',
      website: 'https://example.cn',
      is_industrial_park_or_demonstration_base: true,
      responsible_person: person,
      contact_person: { ...person, name: '李四' },
      postal_address: '上海市浦东新区示例路1号',
      site_location: {
        description: '临港新片区',
        region_code: '310115',
        longitude_deg: 121.9,
        latitude_deg: 30.9,
      },
      overview: {
        area_km2: 12.5,
        administrative_setup: '管委会',
        population_persons: 120000,
        industry_structure: '集成电路、人工智能',
        economic_situation: '稳定增长',
      },
    },
    compute: {
      as_of: '2026-12-01T07:10:00+08:00',
      uplink_mbps_total: 100000,
      uplink_mbps_free: 40000,
      uplink_traffic_gb_free: 3000,
      downlink_mbps_total: 100000,
      downlink_mbps_free: 50000,
      downlink_traffic_gb_free: 4000,
      memory_gib_total: 65536,
      memory_gib_free: 20000,
      storage_gib_total: 1048576,
      storage_gib_free: 500000,
      cpu_servers: 100,
      cpu_cores_total: 12800,
      cpu_cores_free: 6400,
      gpu_servers: 20,
      gpu_cards_total: 160,
      gpu_cards_free: 40,
      npu_servers: 10,
      npu_cards_total: 80,
      npu_cards_free: 8,
      fp16_tflops_total: 50000,
      fp16_tflops_free: 12000.5,
      fp32_tflops_total: 9000,
      fp32_tflops_free: 2000,
    },
    security: {
      attack_events: [
        {
          attack_event_id: 'AE-1',
          attack_time: '2026-11-30T22:15:00+08:00',
          attacker_ip: '203.0.113.7',
          target_ip: '2001:db8::1',
          attack_method: 'DDoS',
          attacked_asset_type: 'API gateway',
          ongoing: false,
          description: 'SYN flood against the northbound API',
          handling_status: 'mitigated',
          severity: 'high',
        },
      ],
    },
  };
}
