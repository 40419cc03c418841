/**
 * A TLS-only server with `requirepass` and the ACL user of the service, and the certificates it
 * serves (made with openssl at start).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serviceAclRules } from './acl.js';
import { requireBinaries, type ServerProcess } from '../helpers/processes.js';
import type { CliTarget } from './redis-cli.js';
import { BASE_ARGS, makeDir, startServer, stopAll, type Topology } from './servers.js';

/** A CA and a server certificate it signed, as files and PEM text. */
export interface TestCertificates {
  caFile: string;
  caPem: string;
  certFile: string;
  keyFile: string;
}

function openssl(args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd, timeout: 20_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`openssl ${args[0]} failed: ${stderr || err.message}`));
      else resolve();
    });
  });
}

/**
 * Makes a CA (`<name>-ca.crt`) and a server certificate for `localhost`/`127.0.0.1` signed by it
 * (`<name>-server.crt`, key `<name>-server.key`) in `dir`, with P-256 keys, valid for 2 days.
 */
export async function generateCertificates(dir: string, name = 'optix'): Promise<TestCertificates> {
  mkdirSync(dir, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = `${name}-ca`;
  const server = `${name}-server`;
  await openssl(
    [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=${name} test CA`,
    ],
    dir,
  );
  await openssl(
    ['req', ...ec, '-keyout', `${server}.key`, '-out', `${server}.csr`, '-subj', '/CN=localhost'],
    dir,
  );
  writeFileSync(
    join(dir, `${server}.ext`),
    [
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      '',
    ].join('\n'),
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${server}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${server}.crt`,
      '-days',
      '2',
      '-extfile',
      `${server}.ext`,
    ],
    dir,
  );
  const caFile = join(dir, `${ca}.crt`);
  return {
    caFile,
    caPem: readFileSync(caFile, 'utf8'),
    certFile: join(dir, `${server}.crt`),
    keyFile: join(dir, `${server}.key`),
  };
}

export interface TlsTopology extends Topology {
  readonly kind: 'tls';
  readonly tls: { ca: string };
  readonly port: number;
  readonly certificates: TestCertificates;
  /** The ACL user the service connects as, and its password. */
  readonly user: string;
  readonly userPassword: string;
  /** The default user's password (`requirepass`): for administration, not the service. */
  readonly adminPassword: string;
  /** `rediss://default:…@127.0.0.1:P` (all commands). */
  readonly adminUrl: string;
  /** How redis-cli reaches it as the admin. */
  readonly cli: CliTarget;
}

export interface TlsOptions {
  /** Certificates to serve (default: a fresh CA and server certificate). */
  certificates?: TestCertificates;
  /** Rules of the service user after `on >password` (default `serviceAclRules()`). */
  aclRules?: readonly string[];
  /** Extra server arguments. */
  args?: readonly string[];
}

/**
 * A TLS-only server (no plaintext port) with `requirepass` and the ACL user `optix` limited to
 * `SERVICE_COMMANDS`. Clients need `tls: { ca }`; certificates are checked (`--tls-auth-clients no`
 * only means clients need no certificate of their own).
 */
export async function startTlsRedis(options: TlsOptions = {}): Promise<TlsTopology> {
  requireBinaries();
  const dir = makeDir('tls');
  const procs: ServerProcess[] = [];
  try {
    const certs = options.certificates ?? (await generateCertificates(join(dir, 'certs')));
    const adminPassword = randomBytes(18).toString('base64url');
    const userPassword = randomBytes(18).toString('base64url');
    const user = 'optix';
    const rules = options.aclRules ?? serviceAclRules();
    const proc = await startServer({
      name: 'redis-tls',
      dir,
      args: (port) => [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        certs.certFile,
        '--tls-key-file',
        certs.keyFile,
        '--tls-ca-cert-file',
        certs.caFile,
        '--tls-auth-clients',
        'no',
        ...BASE_ARGS(dir),
        '--requirepass',
        adminPassword,
        '--user',
        user,
        'on',
        `>${userPassword}`,
        ...rules,
        ...(options.args ?? []),
      ],
      cli: { caFile: certs.caFile, password: adminPassword },
    });
    procs.push(proc);
    const port = proc.port;
    return {
      kind: 'tls',
      url: `rediss://${user}:${userPassword}@127.0.0.1:${port}/0`,
      adminUrl: `rediss://default:${adminPassword}@127.0.0.1:${port}/0`,
      tls: { ca: certs.caPem },
      dir,
      processes: procs,
      port,
      certificates: certs,
      user,
      userPassword,
      adminPassword,
      cli: { port, caFile: certs.caFile, password: adminPassword },
      stop: () => stopAll(procs, dir),
    };
  } catch (err) {
    await stopAll(procs, dir);
    throw err;
  }
}
