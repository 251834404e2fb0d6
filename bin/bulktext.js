#!/usr/bin/env node
// The CLI is compiled to dist/: a published package carries it (built by `prepack`); in a git clone,
// `npm run build` (or `npm test`) makes it.
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
try {
  await import(main.href);
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes(fileURLToPath(main))) throw err;
  process.stderr.write(`bulktext: ${fileURLToPath(main)} is missing: run \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))}\n`);
  process.exitCode = 1;
}
