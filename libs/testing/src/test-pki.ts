import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate and its private key, as PEM files. */
export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
}

/** A throwaway certificate authority in a temporary directory, made by the test that uses it. */
export interface TestPki {
  dir: string;
  /** The CA certificate (PEM): what servers and clients verify each other with. */
  caFile: string;
  /**
   * Issues a certificate for `name` (its CN and file names) valid for 127.0.0.1 and localhost, usable
   * by a server and by a client (extended key usages serverAuth and clientAuth), like the single
   * certificate the chart mounts into every pod.
   */
  issue(name: string): Promise<IssuedCertificate>;
  /** Deletes the directory, private keys included. */
  remove(): Promise<void>;
}

const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(
      `openssl ${args[0]} failed (the TLS tests need the openssl command, Debian package openssl): ` +
        `${(error as Error).message}\n${stderr}`,
    );
  }
}

/**
 * Creates a CA (EC P-256, valid two days) with the openssl command. Nothing of it is committed:
 * every key is generated at test time, under the OS temporary directory, and removed by remove().
 */
export async function createTestPki(label = 'cinode-test'): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), `${label}-pki-`));
  const caFile = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  try {
    await openssl([
      'req',
      '-x509',
      ...KEY_ARGS,
      '-keyout',
      caKey,
      '-out',
      caFile,
      '-days',
      '2',
      '-subj',
      `/CN=${label} test CA`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await chmod(caKey, 0o600);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const extensions = join(dir, 'leaf.ext');
  await writeFile(
    extensions,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth,clientAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '',
    ].join('\n'),
  );
  return {
    dir,
    caFile,
    issue: async (name) => {
      if (!/^[a-z0-9][a-z0-9-]*$/.test(name))
        throw new Error(`certificate name ${name}: a-z, 0-9, -`);
      const keyFile = join(dir, `${name}.key`);
      const request = join(dir, `${name}.csr`);
      const certFile = join(dir, `${name}.crt`);
      await openssl([
        'req',
        '-new',
        ...KEY_ARGS,
        '-keyout',
        keyFile,
        '-out',
        request,
        '-subj',
        `/CN=${name}`,
      ]);
      await chmod(keyFile, 0o600);
      await openssl([
        'x509',
        '-req',
        '-in',
        request,
        '-CA',
        caFile,
        '-CAkey',
        caKey,
        '-set_serial',
        `0x${randomBytes(8).toString('hex')}`,
        '-days',
        '2',
        '-extfile',
        extensions,
        '-out',
        certFile,
      ]);
      return { certFile, keyFile };
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
