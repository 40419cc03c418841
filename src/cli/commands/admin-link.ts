/**
 * `optix-sessions admin-link --url <service>`: a one-time sign-in link to the operator console,
 * for local development (the in-memory quickstart has no login service to grant the admin role).
 *
 * Through the running service, with its service key (which can already do everything an operator
 * can): `POST /v1/sessions` for the operator with `roles: [ADMIN_ROLE]` and `transport: "browser"`,
 * which answers a one-time hand-off code (never a token). The link carries the code in its
 * fragment (`/admin#code=…`), which the browser never sends to a server; the page exchanges it
 * for the refresh cookie. The code is single-use and lives `BROWSER_HANDOFF_TTL_SECONDS` (60 s);
 * the page's origin must be in the service's `CORS_ORIGINS` (browser mode).
 */
import { assertUserId } from '../../core/ids.js';
import { CliError, type CliIo, EXIT, type GlobalOptions, printJson, serviceFrom } from '../context.js';

export interface AdminLinkOptions extends GlobalOptions {
  /** The operator's user id (default `operator`). */
  operator?: string;
  /** The admin role to put in the token (default `optix:admin`, the service's default ADMIN_ROLE). */
  role?: string;
  email?: string;
}

interface HandoffAnswer {
  handoffCode: string;
  handoffExpiresIn: number;
  session: { userId: string };
}

export async function adminLinkCommand(io: CliIo, options: AdminLinkOptions): Promise<number> {
  const operator = options.operator ?? 'operator';
  assertUserId(operator);
  const role = options.role ?? 'optix:admin';
  if (!/^[A-Za-z0-9:._/-]{1,64}$/.test(role)) {
    throw new CliError(EXIT.USAGE, '--role must be 1-64 characters of letters, digits and : . _ / -');
  }
  const service = serviceFrom(io, options);
  if (service === null) {
    throw new CliError(
      EXIT.USAGE,
      'admin-link talks to the running service: give its --url (e.g. --url http://127.0.0.1:8080) and OPTIX_SERVICE_KEY',
    );
  }
  const { body } = await service.call<HandoffAnswer>('POST', '/v1/sessions', {
    body: {
      userId: operator,
      roles: [role],
      ...(options.email !== undefined ? { email: options.email } : {}),
      ipAddress: '127.0.0.1',
      userAgent: 'optix-sessions admin-link',
      transport: 'browser',
    },
  });
  const link = `${service.baseUrl}/admin#code=${body.handoffCode}`;
  if (options.json) {
    printJson(io, { link, expiresInSeconds: body.handoffExpiresIn, operator, role });
  } else {
    io.stdout.write(`${link}\n`);
    io.stderr.write(
      `Open it within ${body.handoffExpiresIn} s; it works once. It signs ${operator} in with the ${role} role.\n` +
        `The console's origin (${service.baseUrl}) must be listed in the service's CORS_ORIGINS.\n`,
    );
  }
  return EXIT.OK;
}
