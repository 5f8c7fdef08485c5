// Preloaded (`--import`) into a CLI process by heap-limits.test.ts. It records the V8 flags the
// process sets, and at exit churns through short-lived garbage, as a server does on every call,
// then reports the young generation's size on stderr.
import { syncBuiltinESMExports } from 'node:module';
import v8 from 'node:v8';

const flags: string[] = [];
const setFlags = v8.setFlagsFromString.bind(v8);
v8.setFlagsFromString = (flag: string) => {
  flags.push(flag);
  setFlags(flag);
};
// `import { setFlagsFromString } from 'node:v8'` in the process sees the recorder too.
syncBuiltinESMExports();

process.on('exit', () => {
  let sink: unknown;
  for (let i = 0; i < 2_000_000; i++) sink = { i, text: `call ${i}`, list: [i] };
  const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  process.stderr.write(
    `heap-probe ${JSON.stringify({ flags, youngKb: (young?.space_size ?? 0) / 1024, sink: Boolean(sink) })}\n`,
  );
});
