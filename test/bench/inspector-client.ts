// A minimal Chrome DevTools Protocol client over Node's global WebSocket, so the benchmark
// can ask a server process to collect garbage and report its heap, without code in the product.

/** A connected DevTools session to another Node process. */
export interface Inspector {
  /** Runs a full garbage collection in the target. */
  collectGarbage(): Promise<void>;
  /** The target's live JS heap in MB. */
  heapUsedMb(): Promise<number>;
  close(): void;
}

/** Connects to the `ws://…` URL a process started with --inspect printed. */
export async function connectInspector(url: string): Promise<Inspector> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('error', reject, { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  ws.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  const send = (method: string) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method }));
    });
  return {
    collectGarbage: async () => {
      await send('HeapProfiler.collectGarbage');
    },
    heapUsedMb: async () =>
      ((await send('Runtime.getHeapUsage')) as { usedSize: number }).usedSize / 1024 / 1024,
    close: () => ws.close(),
  };
}
