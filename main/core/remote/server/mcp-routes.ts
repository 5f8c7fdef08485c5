/** The MCP paths of an auth mode: valet and entra at `/mcp`; both puts entra at `/entra/mcp`. */
export function mcpPaths(auth: 'valet' | 'entra' | 'both'): string[] {
  return auth === 'both' ? ['/mcp', '/entra/mcp'] : ['/mcp'];
}
