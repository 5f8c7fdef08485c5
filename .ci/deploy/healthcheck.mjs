// The container's health check: asks the team server in this container for /healthz, with the
// public host as Host (the server answers no other host), and exits 0 when it answers 200.
// Plain Node, no dependencies: it runs as `node /app/healthcheck.mjs`.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

const env = process.env;
const publicUrl = new URL(env.VALET_PUBLIC_URL ?? 'http://localhost');
const [, port = '8080'] = /:(\d+)$/.exec(env.VALET_LISTEN ?? '') ?? [];
const tls = Boolean(env.VALET_TLS_CERT_FILE);
const path = `${publicUrl.pathname.replace(/\/+$/, '')}/healthz`;
const request = tls ? httpsRequest : httpRequest;

const req = request(
  {
    host: '127.0.0.1',
    port: Number(port),
    path,
    method: 'GET',
    headers: { host: publicUrl.host },
    // Its certificate names the public host, not 127.0.0.1, where this check connects.
    ...(tls ? { rejectUnauthorized: false, servername: publicUrl.hostname } : {}),
    timeout: 4000,
  },
  (res) => {
    res.resume();
    process.exit(res.statusCode === 200 ? 0 : 1);
  },
);
req.on('timeout', () => req.destroy(new Error('timed out')));
req.on('error', (err) => {
  process.stderr.write(`mcp-valet health check: ${err.message}\n`);
  process.exit(1);
});
req.end();
