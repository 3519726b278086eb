-- One database per service (each service owns its own). Runs once, on an empty data directory.
-- Exactly the "database" of each services/<name>/service.json; libs/manifest's agreement test
-- (test/topology-agreement.spec.ts) fails when a line is missing or left over.
CREATE DATABASE national_node_mock;
CREATE DATABASE service_center;
CREATE DATABASE identifier;
CREATE DATABASE resource_aggregation;
CREATE DATABASE compute_selection;
CREATE DATABASE reporting;
CREATE DATABASE runtime_monitoring;
CREATE DATABASE security;
