/**
 * Loaded with `node --import` into the MCP conformance runner, which has no option for
 * request headers: adds `Authorization: Bearer <valet key>` to every HTTP request the runner
 * sends to the endpoint under test (VALET_CONFORMANCE_URL), whether by fetch or by undici,
 * through undici's documented request-creation channel. Nothing else is changed. A request
 * for any other origin ends the runner at once, before it could look up or reach a host.
 */
import { subscribe } from 'node:diagnostics_channel';

const key = process.env.VALET_CONFORMANCE_KEY;
const target = process.env.VALET_CONFORMANCE_URL;
if (!key || !target)
  throw new Error('Set VALET_CONFORMANCE_KEY and VALET_CONFORMANCE_URL for the conformance runner');
const origin = new URL(target).origin;

interface UndiciRequest {
  origin: string | URL;
  headers: string[] | string;
  addHeader(name: string, value: string): void;
}

subscribe('undici:request:create', (message) => {
  const { request } = message as { request: UndiciRequest };
  if (String(request.origin).replace(/\/$/, '') !== origin) {
    process.stderr.write(`conformance runner tried to reach ${String(request.origin)}\n`);
    process.exit(70);
  }
  const names = Array.isArray(request.headers)
    ? request.headers.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase())
    : request.headers
        .toLowerCase()
        .split('\r\n')
        .map((line) => line.split(':')[0]);
  if (!names.includes('authorization')) request.addHeader('authorization', `Bearer ${key}`);
});
