import {
  expandLocalEnvValue,
  resolvedDependencies,
  startWaves,
  type SecretFormat,
  type ServiceManifest,
} from '@cinode/manifest';

/** The token keys every service of a node gets (docs/adr/0001). */
export interface NodeKeys {
  /** JWKS JSON of the participant and service public keys (AUTH_JWT_PUBLIC_KEYS). */
  publicKeys: string;
  /** Private JWK JSON of the node's service key (AUTH_SERVICE_SIGNING_KEY). */
  serviceSigningKey: string;
}

export interface ServicePorts {
  grpcPort: number;
  metricsPort: number;
}

/** One service's TLS material: its certificate and key (as server and as client) and the node's CA. */
export interface ServiceTlsFiles {
  /** The CA that signed every service's certificate: verifies servers and, for mTLS, clients. */
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface PlanNodeInput {
  manifests: readonly ServiceManifest[];
  /** Address every service binds (GRPC_HOST) and is called on. */
  host: string;
  /** Where each service listens; default the manifest's ports (the e2e node passes free ones). */
  ports?: (manifest: ServiceManifest) => ServicePorts;
  /** DATABASE_URL of each service: its own database on the node's server. */
  databaseUrl: (manifest: ServiceManifest) => string;
  natsUrl: string;
  keys: NodeKeys;
  /** The value of a `${secret:<name>:<format>}` reference in a manifest's localEnv. */
  secret: (name: string, format: SecretFormat) => string;
  nodeEnv: string;
  logLevel: string;
  /**
   * TLS and mTLS on every listener and every call between the services: each serves with its
   * certificate, requires clients signed by the CA, and presents its certificate when it calls
   * another (GRPC_TLS_*, GRPC_CLIENT_TLS_*). Without it the node runs in plaintext.
   */
  tls?: (manifest: ServiceManifest) => ServiceTlsFiles;
  /**
   * Variables every service gets beneath the planned ones: npm start passes its own environment,
   * so e.g. FAULT_LATENCY_MS=200 npm start reaches the services.
   */
  inheritedEnv?: Readonly<Record<string, string | undefined>>;
}

export interface ServicePlan {
  name: string;
  grpcPort: number;
  metricsPort: number;
  /** `host:grpcPort`, what the other services and clients call. */
  grpcAddress: string;
  database: string;
  /** Workspace-relative path of the built entry point. */
  entry: string;
  /** Arguments to `node` that run the service, and that run its migrations and exit. */
  command: string[];
  migrateCommand: string[];
  /** The complete environment of both commands. */
  env: Record<string, string>;
}

export interface NodePlan {
  /** Sorted by name. */
  services: ServicePlan[];
  /** Start order: every service of a wave may start once the earlier waves are SERVING. */
  waves: ServicePlan[][];
}

/** Workspace-relative path of a service's built entry point. */
export function serviceEntry(service: string): string {
  return `dist/services/${service}/src/main.js`;
}

/**
 * How a node of these services runs: each service's environment (infrastructure, keys, the
 * addresses of the services it calls, its localEnv with secrets resolved), its commands, and the
 * waves to start them in. Pure apart from what `secret` does.
 */
export function planNode(input: PlanNodeInput): NodePlan {
  const portsOf = input.ports ?? ((m: ServiceManifest) => m);
  const ports = new Map(input.manifests.map((m) => [m.name, pick(portsOf(m))]));
  const addressOf = (name: string): string => {
    const servicePorts = ports.get(name);
    if (servicePorts === undefined) throw new Error(`no service called ${name} in this node`);
    return `${input.host}:${servicePorts.grpcPort}`;
  };
  const inherited = Object.fromEntries(
    Object.entries(input.inheritedEnv ?? {}).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    ),
  );

  const plans = new Map<string, ServicePlan>();
  for (const manifest of [...input.manifests].sort((a, b) => compare(a.name, b.name))) {
    const { grpcPort, metricsPort } = pick(portsOf(manifest));
    const dependencyEnv = Object.fromEntries(
      resolvedDependencies(manifest, input.manifests).map((d) => [d.env, addressOf(d.service)]),
    );
    const localEnv = Object.fromEntries(
      Object.entries(manifest.localEnv ?? {}).map(([key, value]) => [
        key,
        expandLocalEnvValue(value, input.secret),
      ]),
    );
    const entry = serviceEntry(manifest.name);
    plans.set(manifest.name, {
      name: manifest.name,
      grpcPort,
      metricsPort,
      grpcAddress: addressOf(manifest.name),
      database: manifest.database,
      entry,
      command: [entry],
      migrateCommand: [entry, 'migrate'],
      env: {
        ...inherited,
        NODE_ENV: input.nodeEnv,
        GRPC_HOST: input.host,
        GRPC_PORT: String(grpcPort),
        METRICS_PORT: String(metricsPort),
        DATABASE_URL: input.databaseUrl(manifest),
        NATS_URL: input.natsUrl,
        LOG_LEVEL: input.logLevel,
        GRPC_REFLECTION: 'true',
        AUTH_JWT_PUBLIC_KEYS: input.keys.publicKeys,
        AUTH_SERVICE_SIGNING_KEY: input.keys.serviceSigningKey,
        OTEL_SERVICE_NAME: manifest.name,
        ...(input.tls ? tlsEnv(input.tls(manifest)) : {}),
        ...dependencyEnv,
        ...localEnv,
      },
    });
  }

  const planOf = (name: string): ServicePlan => {
    const plan = plans.get(name);
    if (plan === undefined) throw new Error(`no plan for ${name}`);
    return plan;
  };
  return {
    services: [...plans.values()],
    waves: startWaves(input.manifests).map((wave) => wave.map(planOf)),
  };
}

function tlsEnv(files: ServiceTlsFiles): Record<string, string> {
  return {
    GRPC_TLS_CERT_FILE: files.certFile,
    GRPC_TLS_KEY_FILE: files.keyFile,
    GRPC_TLS_CA_FILE: files.caFile,
    GRPC_CLIENT_TLS: 'true',
    GRPC_CLIENT_TLS_CA_FILE: files.caFile,
    GRPC_CLIENT_TLS_CERT_FILE: files.certFile,
    GRPC_CLIENT_TLS_KEY_FILE: files.keyFile,
  };
}

function pick(ports: ServicePorts): ServicePorts {
  return { grpcPort: ports.grpcPort, metricsPort: ports.metricsPort };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
