import { status as GrpcStatus, type Client, type ServiceError } from '@grpc/grpc-js';
import { createFileRegistry, fromBinary, type FileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { ReflectionService } from '@cinode/grpc';
import { descriptorSet } from '@cinode/proto';
import { createTestAuth, type TestAuth } from '@cinode/testing';
import {
  BidiSession,
  PROBE_SERVICE,
  rawClient,
  startProbeServer,
  type ProbeServer,
} from './probe-server';
import {
  decodeReflectionReply,
  encodeReflectionRequest,
  type ReflectionQuery,
  type ReflectionReply,
  type ReflectionRequest,
} from './reflection-wire';

const V1 = '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo';
const V1ALPHA = '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo';
const NATIONAL_SERVICE = 'cinode.national.v1.NationalNodeService';
const NATIONAL_FILE = 'cinode/national/v1/national_node_service.proto';
const PROBE_FILE = 'cinode/testing/v1/probe_service.proto';

type ReflectionSession = BidiSession<ReflectionRequest, ReflectionReply>;

function files(reply: ReflectionReply): FileDescriptorProto[] {
  if (reply.error) throw new Error(`reflection error ${reply.error.code}: ${reply.error.message}`);
  if (!reply.fileDescriptorProtos) throw new Error('reply carries no file_descriptor_response');
  return reply.fileDescriptorProtos.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
}

/**
 * Links the returned files the way grpcurl does: from exactly these files, every import resolved
 * among them, or it throws ("Unable to resolve ..."). Every returned file must end up linked.
 */
function strictRegistry(returned: FileDescriptorProto[], rootName: string): FileRegistry {
  const byName = new Map(returned.map((file) => [file.name, file]));
  const root = byName.get(rootName);
  if (!root) throw new Error(`${rootName} is not among the returned files`);
  return createFileRegistry(root, (name) => byName.get(name));
}

/** The dependency list buf recorded for a file, to compare with what reflection serves. */
function sourceDependencies(fileName: string): string[] {
  const source = descriptorSet().file.find((file) => file.name === fileName);
  if (!source) throw new Error(`${fileName} is not in the descriptor set`);
  return [...source.dependency];
}

function transitiveDependencies(fileName: string, seen = new Set<string>()): Set<string> {
  for (const dependency of sourceDependencies(fileName)) {
    if (seen.has(dependency)) continue;
    seen.add(dependency);
    transitiveDependencies(dependency, seen);
  }
  return seen;
}

function symbol(fileContainingSymbol: string): ReflectionRequest {
  return { query: { fileContainingSymbol } };
}

describe(`${ReflectionService.name} over gRPC`, () => {
  let auth: TestAuth;
  let server: ProbeServer;
  const clients: Client[] = [];
  const sessions: ReflectionSession[] = [];

  beforeAll(async () => {
    auth = await createTestAuth();
    server = await startProbeServer(auth);
  });

  afterAll(async () => {
    await Promise.allSettled(sessions.map((session) => session.close()));
    for (const client of clients) client.close();
    await server?.stop();
  });

  function open(address: string, path: string): ReflectionSession {
    const client = rawClient(address);
    clients.push(client);
    const session = new BidiSession(client, path, encodeReflectionRequest, decodeReflectionReply);
    sessions.push(session);
    return session;
  }

  describe('v1', () => {
    let session: ReflectionSession;

    beforeAll(() => {
      session = open(server.address, V1);
    });

    it('lists the served service, health and both reflection versions', async () => {
      const request: ReflectionRequest = { host: 'probe.local', query: { listServices: '' } };
      const reply = await session.ask(request);
      expect(reply.error).toBeUndefined();
      expect([...(reply.services ?? [])].sort()).toEqual(
        [
          PROBE_SERVICE,
          'grpc.health.v1.Health',
          'grpc.reflection.v1.ServerReflection',
          'grpc.reflection.v1alpha.ServerReflection',
        ].sort(),
      );
      expect(reply.validHost).toBe('probe.local');
      expect(reply.originalRequest).toEqual(encodeReflectionRequest(request));
    });

    it('returns the ProbeService file with its comments, and it links on its own', async () => {
      const returned = files(await session.ask(symbol(PROBE_SERVICE)));
      expect(returned.map((file) => file.name)).toEqual([PROBE_FILE]);
      const [probeFile] = returned;
      expect(probeFile.dependency).toEqual(sourceDependencies(PROBE_FILE));
      // grpcurl describe prints these: descriptors rebuilt by proto-loader have none.
      expect(
        probeFile.sourceCodeInfo?.location.some((l) =>
          l.leadingComments.includes('Test-only service'),
        ),
      ).toBe(true);

      const registry = strictRegistry(returned, PROBE_FILE);
      const service = registry.getService(PROBE_SERVICE);
      expect(service?.methods.map((m) => m.name)).toEqual([
        'Probe',
        'Undeclared',
        'Mutate',
        'Count',
      ]);
      const probe = service?.methods.find((m) => m.name === 'Probe');
      expect(probe?.input.typeName).toBe('cinode.testing.v1.ProbeRequest');
      expect(probe?.input.fields.map((f) => f.name)).toEqual(['message', 'behaviour', 'delay_ms']);
      expect(probe?.output.typeName).toBe('cinode.testing.v1.ProbeResponse');
    });

    it('returns NationalNodeService with every transitive import, dependency lists intact', async () => {
      const returned = files(await session.ask(symbol(NATIONAL_SERVICE)));
      const names = returned.map((file) => file.name);
      expect(names[0]).toBe(NATIONAL_FILE);
      expect(new Set(names).size).toBe(names.length);
      expect(names).toEqual(
        expect.arrayContaining([
          'google/protobuf/timestamp.proto',
          'google/protobuf/duration.proto',
        ]),
      );
      expect(new Set(names)).toEqual(
        new Set([NATIONAL_FILE, ...transitiveDependencies(NATIONAL_FILE)]),
      );
      for (const file of returned) {
        expect({ file: file.name, dependency: file.dependency }).toEqual({
          file: file.name,
          dependency: sourceDependencies(file.name),
        });
        for (const dependency of file.dependency) expect(names).toContain(dependency);
      }
      expect(returned[0].dependency).toEqual(
        expect.arrayContaining([
          'google/protobuf/timestamp.proto',
          'google/protobuf/duration.proto',
        ]),
      );

      const registry = strictRegistry(returned, NATIONAL_FILE);
      for (const name of names) expect(registry.getFile(name)?.proto.name).toBe(name);
      const service = registry.getService(NATIONAL_SERVICE);
      const register = service?.methods.find((m) => m.name === 'RegisterNode');
      expect(register?.input.typeName).toBe('cinode.national.v1.RegisterNodeRequest');
      const registeredAt = registry
        .getMessage('cinode.national.v1.Node')
        ?.fields.find((f) => f.name === 'registered_at');
      expect(registeredAt?.message?.typeName).toBe('google.protobuf.Timestamp');
      const addedLatency = registry
        .getMessage('cinode.national.v1.FaultInjection')
        ?.fields.find((f) => f.name === 'added_latency');
      expect(addedLatency?.message?.typeName).toBe('google.protobuf.Duration');
    });

    it('is linkable only because the imports came back (a strict registry rejects a missing one)', async () => {
      const returned = files(await session.ask(symbol(NATIONAL_SERVICE)));
      const withoutTimestamp = returned.filter(
        (file) => file.name !== 'google/protobuf/timestamp.proto',
      );
      expect(() => strictRegistry(withoutTimestamp, NATIONAL_FILE)).toThrow(
        /google\/protobuf\/timestamp\.proto/,
      );
    });

    it('finds the file of a method, a message and the health service, and a file by name', async () => {
      const cases: Array<[ReflectionQuery, string]> = [
        [{ fileContainingSymbol: `${PROBE_SERVICE}.Probe` }, PROBE_FILE],
        [{ fileContainingSymbol: 'cinode.national.v1.Node' }, NATIONAL_FILE],
        [{ fileContainingSymbol: '.cinode.testing.v1.ProbeRequest' }, PROBE_FILE],
        [{ fileContainingSymbol: 'grpc.health.v1.Health' }, 'grpc/health/v1/health.proto'],
        [{ fileByFilename: 'google/protobuf/timestamp.proto' }, 'google/protobuf/timestamp.proto'],
      ];
      for (const [query, fileName] of cases) {
        const returned = files(await session.ask({ query }));
        expect({ query, first: returned[0]?.name }).toEqual({ query, first: fileName });
        expect(() => strictRegistry(returned, fileName)).not.toThrow();
      }
    });

    it('answers unknown symbols, files and extensions with NOT_FOUND on the same stream, which stays usable', async () => {
      const unknown = await session.ask(symbol('cinode.nothing.v1.NothingService'));
      expect(unknown.error?.code).toBe(GrpcStatus.NOT_FOUND);
      expect(unknown.error?.message).toContain('cinode.nothing.v1.NothingService');
      expect(unknown.fileDescriptorProtos).toBeUndefined();

      const missingFile = await session.ask({ query: { fileByFilename: 'no/such/file.proto' } });
      expect(missingFile.error?.code).toBe(GrpcStatus.NOT_FOUND);

      const extensions = await session.ask({
        query: { allExtensionNumbersOfType: 'cinode.national.v1.Node' },
      });
      expect(extensions.error).toBeUndefined();
      expect(extensions.extensionNumbers).toEqual({
        baseTypeName: 'cinode.national.v1.Node',
        numbers: [],
      });
      const noExtension = await session.ask({
        query: {
          fileContainingExtension: {
            containingType: 'cinode.national.v1.Node',
            extensionNumber: 1000,
          },
        },
      });
      expect(noExtension.error?.code).toBe(GrpcStatus.NOT_FOUND);

      const after = await session.ask({ query: { listServices: '*' } });
      expect(after.services).toContain(PROBE_SERVICE);
      expect(files(await session.ask(symbol(PROBE_SERVICE)))[0]?.name).toBe(PROBE_FILE);
    });
  });

  describe('v1alpha', () => {
    it('lists services and returns linkable descriptors with their imports', async () => {
      const session = open(server.address, V1ALPHA);
      const listed = await session.ask({ query: { listServices: '' } });
      expect(listed.services).toEqual(
        expect.arrayContaining([PROBE_SERVICE, 'grpc.reflection.v1alpha.ServerReflection']),
      );

      const returned = files(await session.ask(symbol(NATIONAL_SERVICE)));
      const registry = strictRegistry(returned, NATIONAL_FILE);
      expect(registry.getService(NATIONAL_SERVICE)?.methods.length).toBeGreaterThan(0);
      expect(registry.getFile('google/protobuf/duration.proto')).toBeDefined();

      const unknown = await session.ask(symbol('no.Such'));
      expect(unknown.error?.code).toBe(GrpcStatus.NOT_FOUND);
      await session.close();
    });
  });

  describe('with GRPC_REFLECTION=false', () => {
    let dark: ProbeServer;

    beforeAll(async () => {
      dark = await startProbeServer(auth, { GRPC_REFLECTION: 'false' });
    });

    afterAll(async () => {
      await dark?.stop();
    });

    it.each([V1, V1ALPHA])('does not serve %s', async (path) => {
      const session = open(dark.address, path);
      const asked = session.ask({ query: { listServices: '' } });
      await expect(asked).rejects.toMatchObject({ code: GrpcStatus.UNIMPLEMENTED });
      const error = (await session.failed()) as ServiceError;
      expect(error.code).toBe(GrpcStatus.UNIMPLEMENTED);
    });
  });
});
