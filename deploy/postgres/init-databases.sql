-- One database per service (each service owns its own). Runs once, on an empty data directory.
-- Add a line here when a service joins deploy/compose.yaml.
CREATE DATABASE national_node_mock;
CREATE DATABASE service_center;
CREATE DATABASE identifier;
