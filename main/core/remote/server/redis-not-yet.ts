/** The one line a remote server stops with when a Redis store is asked for. */
export const REDIS_NOT_YET =
  'The shared Redis store arrives in a later version of MCP Valet: this version serves one instance, with its shared state in memory. Leave out --redis and VALET_REDIS_URL to run it';
