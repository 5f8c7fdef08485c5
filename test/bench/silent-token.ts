// Benchmark child: median silent-token time from the cache with the keyring persistence in
// place, through MCP Valet's AuthService and through bare MSAL on the same cache. Started
// by run.ts inside a private keyring session with NODE_EXTRA_CA_CERTS already set.
import { readFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PublicClientApplication } from '@azure/msal-node';
import { AuthService } from '../../main/core/auth/auth-service.ts';
import { openTokenCache } from '../../main/core/cache/token-cache.ts';
import { loadConfig } from '../../main/core/config/load-config.ts';
import { DEMO_USERS, startIdp, type IdpUser } from '../../main/demo/idp/index.ts';
import { completeDeviceCode, launchBrowser, newUserContext } from '../support/browser.ts';
import { percentile } from './stats.ts';

const CALLS = 2000;
const [adele] = DEMO_USERS as [IdpUser];

const ca = {
  certPem: await readFile(process.env.BENCH_CA_CERT!, 'utf8'),
  keyPem: await readFile(process.env.BENCH_CA_KEY!, 'utf8'),
};
const idp = await startIdp({ ca, deviceCodeIntervalSeconds: 1 });
const browser = await launchBrowser({ caCertPem: ca.certPem });
try {
  const dataDir = await mkdtemp(join(tmpdir(), 'valet-bench-'));
  const config = await loadConfig({
    VALET_DATA_DIR: dataDir,
    VALET_CLIENT_ID: idp.clientIds[0],
    VALET_AUTHORITY: idp.authority,
    VALET_BROKER: 'off',
  });
  const cache = await openTokenCache({ dataDir, allowPlaintext: false });
  if (cache.state.kind !== 'libsecret')
    throw new Error(`expected the keyring cache, got ${cache.state.kind}: ${cache.state.reason}`);
  const auth = new AuthService({ config, cache, platform: 'linux', env: {} });
  let browserDone: Promise<unknown> = Promise.resolve();
  await auth.signIn({
    method: 'device-code',
    onDeviceCode: (p) => {
      browserDone = (async () =>
        completeDeviceCode(
          await (await newUserContext(browser)).newPage(),
          p.verificationUri,
          p.userCode,
          adele,
        ))();
    },
  });
  await browserDone;

  const time = async (fn: () => Promise<unknown>) => {
    for (let i = 0; i < 100; i++) await fn();
    const samples: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const t = performance.now();
      await fn();
      samples.push(performance.now() - t);
    }
    return samples;
  };
  const valet = await time(() => auth.getToken({ scopes: ['User.Read'] }));
  const pca = new PublicClientApplication({
    auth: { clientId: idp.clientIds[0]!, authority: idp.authority, knownAuthorities: [idp.host] },
    cache: { cachePlugin: cache.createPlugin()! },
  });
  const [account] = await pca.getTokenCache().getAllAccounts();
  const bare = await time(() =>
    pca.acquireTokenSilent({ account: account!, scopes: ['User.Read'] }),
  );
  process.stdout.write(
    `${JSON.stringify({
      cache: cache.state.kind,
      calls: CALLS,
      valet: { p50: percentile(valet, 50), p99: percentile(valet, 99) },
      msal: { p50: percentile(bare, 50), p99: percentile(bare, 99) },
    })}\n`,
  );
} finally {
  await browser.close();
  await idp.close();
}
