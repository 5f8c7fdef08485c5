// Benchmark baseline: a bare MCP SDK server on the same Streamable HTTP transport, serving a
// trivial get_user_details (a constant profile) with no auth, keys, policy or Graph. Prints
// its URL as a JSON line, then serves until killed.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { getUserDetails } from '../../main/core/mcp/tools/get-user-details.ts';

// The same answer and schemas as MCP Valet's get_user_details, so only the layers differ.
const profile = {
  id: '3c9a8b7d-2e1f-4a0b-8c6d-5e4f3a2b1c0d',
  displayName: 'Adele Vance',
  givenName: 'Adele',
  surname: 'Vance',
  mail: 'adele@contoso.test',
  userPrincipalName: 'adele@contoso.test',
  jobTitle: 'Software Engineer',
  officeLocation: '18/2111',
  businessPhones: ['+1 425 555 6119'],
  mobilePhone: null,
  preferredLanguage: 'en-US',
};
const sessions = new Map<string, StreamableHTTPServerTransport>();

function newServer(): McpServer {
  const server = new McpServer({ name: 'bare', version: '1.0.0' });
  server.registerTool(
    'get_user_details',
    {
      title: getUserDetails.title,
      description: getUserDetails.description,
      inputSchema: getUserDetails.input,
      outputSchema: getUserDetails.output,
      annotations: getUserDetails.annotations,
    },
    async () => ({
      content: [{ type: 'text', text: JSON.stringify(profile) }],
      structuredContent: profile,
    }),
  );
  return server;
}

const http = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
  const id = req.headers['mcp-session-id'];
  let transport = typeof id === 'string' ? sessions.get(id) : undefined;
  if (!transport && isInitializeRequest(body)) {
    const created = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => void sessions.set(sid, created),
    });
    created.onclose = () => created.sessionId && sessions.delete(created.sessionId);
    await newServer().connect(created);
    transport = created;
  }
  if (!transport) {
    res.writeHead(400).end();
    return;
  }
  await transport.handleRequest(req, res, body);
});
http.listen(0, '127.0.0.1', () => {
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp` })}\n`,
  );
});
// Exit cleanly on SIGTERM, as mcp-valet serve does, so a profile asked for with --cpu-prof is written.
process.once('SIGTERM', () => http.close(() => process.exit(0)).closeAllConnections());
