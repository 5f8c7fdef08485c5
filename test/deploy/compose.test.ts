import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMsalCredential } from '../../main/core/remote/credentials.ts';
import { loadRemoteConfig } from '../../main/core/remote/remote-config.ts';
import { REMOTE_SETTINGS } from '../../main/core/remote/remote-settings.ts';
import { createClientCertificate } from '../support/client-certificate.ts';
import { tempDir } from '../support/remote-server.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const deploy = join(root, '.ci/deploy');

interface Service {
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  secrets?: string[];
  depends_on?: string[];
}
interface Compose {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
}

/** compose.yaml's ${NAME:?message} interpolation, with the values a user would export. */
function interpolate(value: string, shell: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::\?[^}]*)?\}/g, (_m, name: string) => {
    const set = shell[name];
    if (set === undefined) throw new Error(`compose needs ${name} from the shell`);
    return set;
  });
}

describe('the compose file (.ci/deploy/compose.yaml): Redis, two instances and haproxy', () => {
  let compose: Compose;
  let dockerfileListen: string;
  let dir: { dir: string; remove: () => Promise<void> };

  beforeAll(async () => {
    compose = parse(await readFile(join(deploy, 'compose.yaml'), 'utf8'), {
      merge: true,
    }) as Compose;
    const dockerfile = await readFile(join(deploy, 'Dockerfile'), 'utf8');
    dockerfileListen = /VALET_LISTEN=(\S+)/.exec(dockerfile)?.[1] ?? '';
    dir = await tempDir();
  });

  afterAll(async () => {
    await dir?.remove();
  });

  const instances = () => ['valet-a', 'valet-b'].map((name) => compose.services[name] as Service);

  it('builds both instances from the Dockerfile at the repository root, each with its own instance ID and data volume', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['lb', 'redis', 'valet-a', 'valet-b']);
    for (const service of instances()) {
      expect(resolve(deploy, service.build?.context ?? '')).toBe(resolve(root));
      expect(service.build?.dockerfile).toBe('.ci/deploy/Dockerfile');
      expect(service.depends_on).toContain('redis');
      expect(service.volumes?.some((v) => v.endsWith(':/var/lib/mcp-valet'))).toBe(true);
    }
    const ids = instances().map((s) => s.environment?.VALET_INSTANCE_ID);
    expect(new Set(ids).size).toBe(2);
  });

  it('gives each instance an environment the server accepts as one configuration: Redis by service name, one cache key, one credential', async () => {
    const cert = await createClientCertificate('Compose test app');
    const secrets: Record<string, string> = {
      '/run/secrets/client-cert': join(dir.dir, 'client-cert.pem'),
      '/run/secrets/cache-key': join(dir.dir, 'cache-key'),
    };
    await writeFile(
      secrets['/run/secrets/client-cert'] as string,
      `${cert.certPem}${cert.privateKey}`,
    );
    await writeFile(
      secrets['/run/secrets/cache-key'] as string,
      randomBytes(32).toString('base64'),
    );
    const shell = {
      VALET_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      VALET_CLIENT_ID: '8c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f',
    };
    const known = new Set(Object.values(REMOTE_SETTINGS).map((s) => s.env));
    for (const service of instances()) {
      const env: Record<string, string> = {};
      for (const [name, value] of Object.entries(service.environment ?? {})) {
        expect(known.has(name as never), `${name} is a setting the server reads`).toBe(true);
        const text = interpolate(String(value), shell);
        env[name] = secrets[text] ?? text;
      }
      const config = await loadRemoteConfig({
        ...env,
        VALET_LISTEN: dockerfileListen,
        VALET_DATA_DIR: dir.dir,
      });
      expect(config.redisUrl).toBe('redis://redis:6379');
      expect(new URL(config.redisUrl ?? '').hostname in compose.services).toBe(true);
      expect(config.trustProxy).toBe(1);
      expect(config.cacheKeys?.current).toBeDefined();
      const credential = await buildMsalCredential(config.credential);
      expect(credential.description).toMatch(/certificate/);
      // Every secret the instance reads is one compose mounts for it.
      for (const secret of service.secrets ?? []) expect(compose.secrets[secret]).toBeDefined();
    }
  });

  it('points haproxy at both instances on the port the image listens on, and checks them with the public Host', () => {
    const lb = compose.services.lb as Service;
    const port = dockerfileListen.split(':').at(-1);
    expect(lb.environment?.VALET_A).toBe(`valet-a:${port}`);
    expect(lb.environment?.VALET_B).toBe(`valet-b:${port}`);
    expect(lb.volumes).toContain('./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro');
    const publicUrl = new URL(instances()[0]?.environment?.VALET_PUBLIC_URL ?? '');
    expect(lb.environment?.VALET_PUBLIC_HOST).toBe(publicUrl.host);
    const [published, inside] = (lb.ports?.[0] ?? '').split(':');
    expect(published).toBe(publicUrl.port);
    expect(lb.environment?.VALET_LB_BIND).toBe(`:${inside}`);
  });
});
