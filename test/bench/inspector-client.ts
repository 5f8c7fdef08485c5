// A minimal Chrome DevTools Protocol client over Node's global WebSocket, so the benchmark
// can ask a server process to collect garbage, report its heap and sample its allocations,
// without code in the product.

/** Where a server allocates: sampled bytes by function (its top frames). */
export interface AllocationSample {
  /** All bytes allocated while sampling, live or collected since. */
  bytes: number;
  /** The biggest allocating frames, as `function file:line`, with their bytes. */
  top: Array<{ frame: string; bytes: number }>;
}

/** A connected DevTools session to another Node process. */
export interface Inspector {
  /** Runs a full garbage collection in the target. */
  collectGarbage(): Promise<void>;
  /** The target's live JS heap in MB. */
  heapUsedMb(): Promise<number>;
  /** Starts sampling every allocation (every `intervalBytes` on average), kept or not. */
  startAllocationSampling(intervalBytes?: number): Promise<void>;
  /** Stops sampling and sums what was allocated. */
  stopAllocationSampling(): Promise<AllocationSample>;
  close(): void;
}

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
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
  const send = (method: string, params?: unknown) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, ...(params ? { params } : {}) }));
    });
  return {
    collectGarbage: async () => {
      await send('HeapProfiler.collectGarbage');
    },
    heapUsedMb: async () =>
      ((await send('Runtime.getHeapUsage')) as { usedSize: number }).usedSize / 1024 / 1024,
    startAllocationSampling: async (intervalBytes = 1024) => {
      await send('HeapProfiler.enable');
      await send('HeapProfiler.startSampling', {
        samplingInterval: intervalBytes,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    },
    stopAllocationSampling: async () => {
      const { profile } = (await send('HeapProfiler.stopSampling')) as {
        profile: { head: SamplingNode };
      };
      const byFrame = new Map<string, number>();
      let bytes = 0;
      const walk = (node: SamplingNode) => {
        bytes += node.selfSize;
        if (node.selfSize) {
          const { functionName, url: file, lineNumber } = node.callFrame;
          const frame = `${functionName || '(anonymous)'} ${file.replace(/^.*\/(node_modules|main|test)\//, '$1/')}:${lineNumber + 1}`;
          byFrame.set(frame, (byFrame.get(frame) ?? 0) + node.selfSize);
        }
        for (const child of node.children) walk(child);
      };
      walk(profile.head);
      const top = [...byFrame]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 25)
        .map(([frame, b]) => ({ frame, bytes: b }));
      return { bytes, top };
    },
    close: () => ws.close(),
  };
}
