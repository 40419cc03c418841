/** `redis-cli` against one test server: commands, `INFO` sections, PING. */
import { execFile } from 'node:child_process';
import { HOST } from '../helpers/ports.js';

/** How `redis-cli` reaches one server. */
export interface CliTarget {
  port: number;
  /** CA file: connect with TLS. */
  caFile?: string;
  user?: string;
  password?: string;
}

/** Runs `redis-cli` against one server (2 s timeout) and resolves with its trimmed stdout. */
export function redisCli(target: CliTarget, args: readonly string[], timeoutMs = 2000): Promise<string> {
  const base = ['-h', HOST, '-p', String(target.port)];
  if (target.caFile) base.push('--tls', '--cacert', target.caFile);
  if (target.user) base.push('--user', target.user);
  if (target.password) base.push('--pass', target.password, '--no-auth-warning');
  return new Promise((resolve, reject) => {
    execFile('redis-cli', [...base, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`redis-cli ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout.trim());
    });
  });
}

/** `INFO section` of one server as key → value. */
export async function infoOf(target: CliTarget, section: string): Promise<Record<string, string>> {
  const text = await redisCli(target, ['INFO', section]);
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

export async function answersPing(target: CliTarget): Promise<boolean> {
  return (await redisCli(target, ['PING'], 1000)) === 'PONG';
}
