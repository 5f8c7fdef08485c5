import { getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/sdk/server/auth/router.js';
import { Router } from 'express';

/**
 * The MCP endpoints (`/mcp`, and `/entra/mcp` when both modes are served, under the public
 * URL) before token checks exist: every call is unauthorized, and the 401 names the endpoint's
 * protected-resource metadata (RFC 9728), where a client learns how to get a token. GET and
 * DELETE are not served: the transport is stateless, so there is no stream or session to them.
 */
export function mcpRoutes(publicUrl: string, paths: readonly string[]): Router {
  const router = Router();
  for (const path of paths) {
    const metadata = getOAuthProtectedResourceMetadataUrl(new URL(`${publicUrl}${path}`));
    const challenge = `Bearer resource_metadata="${metadata}"`;
    router.post(path, (_req, res) => {
      res
        .status(401)
        .set('www-authenticate', challenge)
        .json({ error: 'invalid_token', error_description: 'A bearer token is required' });
    });
    router.all(path, (_req, res) => {
      res
        .status(405)
        .set('allow', 'POST')
        .json({
          jsonrpc: '2.0',
          error: { code: -32000, message: 'Method not allowed: this endpoint takes POST only' },
          id: null,
        });
    });
  }
  return router;
}

/** The MCP paths of an auth mode: valet and entra at `/mcp`; both puts entra at `/entra/mcp`. */
export function mcpPaths(auth: 'valet' | 'entra' | 'both'): string[] {
  return auth === 'both' ? ['/mcp', '/entra/mcp'] : ['/mcp'];
}
