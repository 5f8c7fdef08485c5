// Runs the Entra-like test IdP by hand: `npm run idp [-- --port 8443 --ca-out ./ca.pem]`.
// Plain Node 24 runs this file directly (type stripping), so it and its imports use only
// erasable TypeScript.
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEMO_CLIENT_ID, createCertificateAuthority, startIdp } from './idp/index.ts';

const USAGE = `Usage: node test/idp/start.ts [--port N] [--ca-out FILE]

Starts an Entra-like OpenID Connect provider on https://localhost:PORT (127.0.0.1 only)
and writes the certificate of its freshly made CA to FILE
(default: ${join(tmpdir(), 'mcp-valet-idp', 'ca.pem')}).`;

function parseOptions(): { port: number; caOut: string } | undefined {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      'ca-out': { type: 'string', default: join(tmpdir(), 'mcp-valet-idp', 'ca.pem') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be a port number (0 for any free port), got "${values.port}".`);
  }
  return { port, caOut: resolve(values['ca-out']) };
}

async function main(): Promise<void> {
  let options: { port: number; caOut: string } | undefined;
  try {
    options = parseOptions();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  if (!options) {
    console.log(USAGE);
    return;
  }

  const ca = await createCertificateAuthority();
  await mkdir(dirname(options.caOut), { recursive: true });
  // Only the certificate: the CA key stays in this process.
  await writeFile(options.caOut, ca.certPem, { mode: 0o644 });
  const idp = await startIdp({ ca, port: options.port });

  const users = idp.users.map((user) => {
    const roles = user.roles?.length ? `; roles: ${user.roles.join(', ')}` : '';
    return `  ${user.username.padEnd(24)} password: ${user.password.padEnd(22)} (${user.name}${roles})`;
  });
  console.log(`MCP Valet test IdP is running.

  Authority:  ${idp.authority}
  Tenant ID:  ${idp.tenantId}
  Client ID:  ${DEMO_CLIENT_ID}
  CA file:    ${options.caOut}

Users:
${users.join('\n')}

In another terminal, point mcp-valet at it with:
  export NODE_EXTRA_CA_CERTS=${options.caOut} VALET_AUTHORITY=${idp.authority} VALET_CLIENT_ID=${DEMO_CLIENT_ID} VALET_TENANT_ID=${idp.tenantId}

Press Ctrl+C to stop.`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    idp.close().then(
      () => console.log(`\nStopped (${signal}).`),
      (error: unknown) => {
        console.error('Could not stop the IdP cleanly:', error);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error('The test IdP failed to start:', error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
