// Imported first by each entry point (CLI, Electron main), before the app loads. A long-running
// server allocates mostly short-lived garbage; by default V8 then grows the young generation to
// 32 MB a semi-space and promotes garbage, so RSS climbs to about three times the live heap.
// Keeping the young generation at its starting size and growing the old one by 30% at a time
// keeps RSS flat at little cost in collection time.
import v8 from 'node:v8';

v8.setFlagsFromString('--semi-space-growth-factor=1');
v8.setFlagsFromString('--heap-growing-percent=30');
