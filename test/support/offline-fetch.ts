/**
 * A fetch that reaches only the given origins (servers the test started on loopback). Any
 * other URL is recorded in `strays` and answered with an empty Graph page, without a DNS
 * lookup or a connection: a broken link guard then shows as a failed assertion, never as a
 * request leaving the machine.
 */
export function offlineFetch(origins: readonly string[]): {
  fetch: typeof fetch;
  strays: string[];
} {
  const allowed = new Set(origins.map((o) => new URL(o).origin));
  const strays: string[] = [];
  const guarded: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (allowed.has(url.origin)) return fetch(input, init);
    strays.push(url.href);
    return Promise.resolve(
      new Response(JSON.stringify({ value: [] }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      }),
    );
  };
  return { fetch: guarded, strays };
}
