/**
 * Child process of the http-introspect scenario: `oidc-provider` (the most-used Node OAuth server)
 * with its introspection endpoint (RFC 7662) on, opaque access tokens, its default in-memory
 * adapter, and one confidential client authenticating with client_secret_basic. It issues
 * `BENCH_TOKENS` client-credentials access tokens through its own model (as its token endpoint
 * would) and sends them to the parent; the parent introspects them at `POST /token/introspection`.
 */
import Provider from 'oidc-provider';

/** The client the parent authenticates as (`BENCH_OIDC_CLIENT_ID`, `BENCH_OIDC_CLIENT_SECRET`). */
const CLIENT_ID = process.env.BENCH_OIDC_CLIENT_ID ?? 'bench-introspector';
const CLIENT_SECRET = process.env.BENCH_OIDC_CLIENT_SECRET ?? 'bench-introspector-secret-0123456789abcdef';

const provider = new Provider('http://127.0.0.1', {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  features: {
    introspection: { enabled: true },
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
  },
  scopes: ['api:read'],
});
// Quiet: a warning per request would be measured too.
provider.on('server_error', () => {});

const count = Number(process.env.BENCH_TOKENS ?? '1000');
const client = await provider.Client.find(CLIENT_ID);
if (client === undefined) throw new Error('oidc-provider: the bench client is not registered');
const tokens: string[] = [];
for (let i = 0; i < count; i++) {
  const token = new provider.ClientCredentials({ client, scope: 'api:read' });
  tokens.push(await token.save());
}

const server = provider.listen(0, '127.0.0.1');
await new Promise<void>((resolve) => server.once('listening', () => resolve()));
const address = server.address();
const port = typeof address === 'object' && address !== null ? address.port : 0;

process.on('message', (message) => {
  if (message === 'stop') server.close(() => process.exit(0));
});
process.send?.({ type: 'ready', port, tokens });
