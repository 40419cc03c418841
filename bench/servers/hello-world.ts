/**
 * Child process of the http-introspect scenario: the Fastify hello-world every Fastify benchmark
 * starts from (defaults: no logger), with a GET and a POST route, on a spare port.
 */
import Fastify from 'fastify';

const app = Fastify();
app.get('/', async () => ({ hello: 'world' }));
app.post('/', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
const port = typeof address === 'object' && address !== null ? address.port : 0;

process.on('message', (message) => {
  if (message === 'stop') void app.close().finally(() => process.exit(0));
});
process.send?.({ type: 'ready', port, tokens: [] });
