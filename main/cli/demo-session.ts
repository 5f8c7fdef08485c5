import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from '../core/util/atomic-file.ts';

/**
 * The keyring entry of the demo's token cache. The demo's tokens (for its own tenant, which
 * lives only while it runs) never share an entry with a real account's, and a demo that signs
 * everyone out at start touches only its own.
 */
export const DEMO_TOKEN_CACHE = { serviceName: 'MCP Valet demo' } as const;

const FILE = 'demo-session.json';

const sessionSchema = z.object({
  pid: z.number().int(),
  /** The VALET_* settings that point MCP Valet at the demo's tenant and Graph stand-in. */
  settings: z.record(z.string().regex(/^VALET_[A-Z_]+$/), z.string()),
  /** The demo's certificate authority (PEM), which signs its sign-in server's certificate. */
  ca: z.string(),
});

/** A running demo, as other commands on its data dir need to know it. */
export type DemoSession = z.infer<typeof sessionSchema>;

/** Records this process's demo in its data dir (owner-only), so that other commands can work with it. */
export async function writeDemoSession(
  dataDir: string,
  session: Omit<DemoSession, 'pid'>,
): Promise<void> {
  const record: DemoSession = { pid: process.pid, ...session };
  await writeFileAtomic(join(dataDir, FILE), `${JSON.stringify(record)}\n`);
}

/** The demo running on `dataDir`, or undefined when none runs there. */
export async function readDemoSession(dataDir: string): Promise<DemoSession | undefined> {
  const session = parse(await readFileIfExists(join(dataDir, FILE)));
  return session && alive(session.pid) ? session : undefined;
}

/** Removes the record, if it is this process's. */
export async function removeDemoSession(dataDir: string): Promise<void> {
  const session = parse(await readFileIfExists(join(dataDir, FILE)));
  if (session?.pid === process.pid) await rm(join(dataDir, FILE), { force: true });
}

function parse(text: string | undefined): DemoSession | undefined {
  if (!text) return undefined;
  try {
    const parsed = sessionSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive but someone else's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
