// Child process for the concurrency test: creates N keys in the given data dir.
import { KeyStore } from '../../../main/core/keys/key-store.ts';

const [dataDir, prefix, count] = process.argv.slice(2);
const store = new KeyStore(dataDir!);
for (let i = 0; i < Number(count); i++) {
  await store.create({
    name: `${prefix}-${i}`,
    tools: ['auth_status'],
    readOnly: false,
    account: null,
  });
}
