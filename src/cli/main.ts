/**
 * The operator CLI (`optix-sessions`, the package's `bin`). `run(argv, io)` returns the exit code
 * instead of exiting, so tests drive it in-process.
 */
import { Command, CommanderError, Option } from 'commander';
import { type AdminLinkOptions, adminLinkCommand } from './commands/admin-link.js';
import { cleanupCommand } from './commands/cleanup.js';
import { eventsCommand } from './commands/events.js';
import { healthCommand } from './commands/health.js';
import { loadTestCommand, SCENARIOS } from './commands/load-test.js';
import { revokeUserCommand } from './commands/revoke-user.js';
import { sessionsListCommand, sessionsRevokeCommand } from './commands/sessions.js';
import { statsCommand } from './commands/stats.js';
import { type CliIo, EXIT, type GlobalOptions, reportError } from './context.js';

const EXIT_CODES_HELP = `
Exit codes:
  0   success
  1   the operation failed (unhealthy, errors during a load test)
  2   bad command line or argument
  3   nothing to act on (no such session)
  69  Redis or the service unreachable (or the service answered 503)
  77  the service refused the service key (--url)
  75  another instance holds the cleanup lock; try again later
  78  configuration error (environment or .env)

Configuration comes from the environment and ./.env (see README, "Configuration").
With --url, commands go through a running service's admin API (the key from OPTIX_SERVICE_KEY
or --service-key); without it, they act on Redis (REDIS_URL). \`health\` with neither checks the
service this configuration would run (http://HOST:PORT/readyz).`;

/** Builds the command tree. Actions store their exit code in `result.code`. */
export function buildProgram(io: CliIo, result: { code: number }): Command {
  const program = new Command('optix-sessions')
    .description('OPTIX Sessions: the session and token authority — service and operator commands')
    .version('0.1.0', '-V, --version')
    .addOption(new Option('--config-file <path>', 'read variables from this file instead of ./.env'))
    // The older name. Node 20 reads `--env-file` anywhere on its command line (nodejs/node#54232)
    // and exits 9 when the file is missing, before this program runs: hence `--config-file`.
    .addOption(new Option('--env-file <path>').hideHelp())
    .addOption(new Option('--redis-url <url>', 'override REDIS_URL'))
    .addOption(
      new Option(
        '--url <service URL>',
        'act on a running service through its admin API instead of on Redis (health, stats, cleanup, sessions, revoke-user, events)',
      ),
    )
    .addOption(
      new Option(
        '--service-key <key>',
        'service key for --url (prefer OPTIX_SERVICE_KEY: a command line is visible to other users)',
      ),
    )
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('afterAll', EXIT_CODES_HELP)
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
    })
    .exitOverride();

  // `--env-file` (the older name) is read as `--config-file`.
  const globals = (cmd: Command): GlobalOptions => {
    const { envFile, ...options } = cmd.optsWithGlobals<GlobalOptions & { envFile?: string }>();
    const configFile = options.configFile ?? envFile;
    return configFile === undefined ? options : { ...options, configFile };
  };
  const action =
    <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
    async (...args: A): Promise<void> => {
      try {
        result.code = await fn(...args);
      } catch (err) {
        result.code = reportError(io, err);
      }
    };
  const json = () => new Option('--json', 'print JSON');

  program
    .command('serve')
    .description('run the HTTP service (same as npm start); SIGTERM/SIGINT shut it down gracefully')
    .action(
      action(async (_opts: object, cmd: Command) => {
        const { main } = await import('../server.js');
        const g = globals(cmd);
        // The same configuration as every command: the environment over the env file, then
        // `--redis-url` over both.
        return new Promise<number>((resolve) => {
          void main({
            processEnv: io.env,
            ...(g.configFile !== undefined ? { envFile: g.configFile } : {}),
            ...(g.redisUrl !== undefined ? { overrides: { REDIS_URL: g.redisUrl } } : {}),
            exit: resolve,
          });
        });
      }),
    );

  program
    .command('health')
    .description(
      "check the backend: Redis PING, connected clients, ops/s, latency (the guide's health check)",
    )
    .addOption(json())
    .action(action(async (_opts: object, cmd: Command) => healthCommand(io, globals(cmd))));

  program
    .command('stats')
    .description('live sessions, blacklist entries, families; Redis INFO memory/clients/stats/keyspace')
    .addOption(json())
    .action(action(async (_opts: object, cmd: Command) => statsCommand(io, globals(cmd))));

  program
    .command('cleanup')
    .description('prune expired entries from every index now (progress bar on a terminal)')
    .addOption(json())
    .action(action(async (_opts: object, cmd: Command) => cleanupCommand(io, globals(cmd))));

  const sessions = program.command('sessions').description("list or end a user's sessions");
  sessions
    .command('list <userId>')
    .description("a user's live sessions, newest first")
    .addOption(json())
    .action(
      action(async (userId: string, _opts: object, cmd: Command) =>
        sessionsListCommand(io, userId, globals(cmd)),
      ),
    );
  sessions
    .command('revoke <sessionId>')
    .description('end a session; its tokens stop verifying')
    .option('--reason <text>', 'recorded in the security event', 'operator_cli')
    .addOption(json())
    .action(
      action(async (sessionId: string, _opts: object, cmd: Command) =>
        sessionsRevokeCommand(io, sessionId, globals(cmd) as GlobalOptions & { reason?: string }),
      ),
    );

  program
    .command('revoke-user <userId>')
    .description("revoke every token of a user (O(1) watermark) and end all of the user's sessions")
    .option('--reason <text>', 'recorded in the security events', 'operator_cli')
    .addOption(json())
    .action(
      action(async (userId: string, _opts: object, cmd: Command) =>
        revokeUserCommand(io, userId, globals(cmd) as GlobalOptions & { reason?: string }),
      ),
    );

  program
    .command('events <userId>')
    .description("a user's security events, newest first")
    .option('--limit <n>', 'at most this many (1-1000)', '50')
    .option('--since <time>', 'ISO date or epoch ms')
    .option('--until <time>', 'ISO date or epoch ms')
    .addOption(json())
    .action(
      action(async (userId: string, _opts: object, cmd: Command) => eventsCommand(io, userId, globals(cmd))),
    );

  program
    .command('admin-link')
    .description(
      'print a one-time sign-in link to the operator console (/admin) for local development (needs --url and OPTIX_SERVICE_KEY)',
    )
    .option('--operator <userId>', "the operator's user id", 'operator')
    .option('--role <role>', "the admin role to grant (the service's ADMIN_ROLE)", 'optix:admin')
    .option('--email <email>', "the operator's email, shown in audit events")
    .addOption(json())
    .action(
      action(async (_opts: object, cmd: Command) => adminLinkCommand(io, globals(cmd) as AdminLinkOptions)),
    );

  program
    .command('load-test')
    .description("the guide's load test: N operations at a concurrency; prints ops/s and p50/p99 latency")
    .addHelpText(
      'after',
      '\nRun it against a staging Redis: `set` keys expire after 60 s, but the `session` scenario leaves\nsecurity events of loadtest-* users (kept for the 90-day retention).',
    )
    .option('--ops <n>', 'number of operations', '10000')
    .option('--concurrency <n>', 'operations in flight', '50')
    .addOption(
      new Option(
        '--scenario <name>',
        'set (Redis SET with TTL, the guide), verify (full verification of a new token each time), verify-warm (one token again and again: the cached path), session (create+end)',
      ).choices(SCENARIOS),
    )
    .addOption(json())
    .action(action(async (_opts: object, cmd: Command) => loadTestCommand(io, globals(cmd))));

  return program;
}

/**
 * Session ids are base64url: one in 64 starts with `-` (and one in 4,096 with `-V`, commander's
 * `--version`), and a user id may too. Commander would read such an operand as an option
 * (`unknown option`, or the version printed and exit 0 with nothing done), so a token that starts
 * with `-` but is none of the program's flags (nor a flag's value) is moved after a `--`, where
 * only operands go, with the operands that follow it, in order. Commander has no per-argument escape
 * other than `--`, which an operator should not have to know.
 */
function operandsLast(program: Command, argv: readonly string[]): string[] {
  const flags = new Map<string, boolean>([
    ['-h', false],
    ['--help', false],
  ]);
  const collect = (cmd: Command): void => {
    for (const option of cmd.options) {
      const takesValue = option.required || option.optional;
      if (option.short) flags.set(option.short, takesValue);
      if (option.long) flags.set(option.long, takesValue);
    }
    for (const sub of cmd.commands) collect(sub);
  };
  collect(program);
  const end = argv.indexOf('--');
  const before = end === -1 ? argv : argv.slice(0, end);
  const after = end === -1 ? [] : argv.slice(end + 1);
  const kept: string[] = [];
  const operands: string[] = [];
  for (let i = 0; i < before.length; i++) {
    const token = before[i]!;
    const name = token.startsWith('--') ? token.split('=', 1)[0]! : token;
    if (flags.has(name)) {
      kept.push(token);
      // A flag that takes a value keeps the next token, whatever it looks like.
      if (flags.get(token) === true && i + 1 < before.length) kept.push(before[++i]!);
    } else if (operands.length > 0 || looksLikeOperand(token)) {
      // From the first operand that looks like an option on, operands go after `--` in order.
      operands.push(token);
    } else {
      kept.push(token);
    }
  }
  if (operands.length === 0) return [...argv];
  return [...kept, '--', ...operands, ...after];
}

/**
 * An unknown token that starts with `-` is an operand, except a `--word` with no `.` in it: that
 * one is a misspelt long option, and commander says so (every sealed id has a `.`).
 */
function looksLikeOperand(token: string): boolean {
  if (!token.startsWith('-') || token === '-') return false;
  return !token.startsWith('--') || (token.includes('.') && !token.includes('='));
}

/** Parses `argv` (without `node` and the script) and runs the command. Resolves with the exit code. */
export async function run(argv: readonly string[], io?: Partial<CliIo>): Promise<number> {
  const full: CliIo = {
    stdout: io?.stdout ?? process.stdout,
    stderr: io?.stderr ?? process.stderr,
    env: io?.env ?? process.env,
    isTTY: io?.isTTY ?? process.stderr.isTTY === true,
  };
  const result = { code: EXIT.OK };
  const program = buildProgram(full, result);
  if (argv.length === 0) {
    program.outputHelp();
    return EXIT.USAGE;
  }
  try {
    await program.parseAsync(operandsLast(program, argv), { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help, `help`, --version exit 0; anything else commander refused is a usage error.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    return reportError(full, err);
  }
  return result.code;
}
