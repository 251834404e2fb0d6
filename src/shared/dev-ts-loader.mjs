/**
 * Module hooks used only when a worker thread runs from TypeScript sources (under vitest):
 * a worker thread is plain Node, which cannot load .ts files, so this resolves the sources'
 * `./x.js` imports to `./x.ts` and strips the types with TypeScript's transpileModule.
 * Output is cached in the temp directory by content hash, because a cold TypeScript takes ~40 ms
 * per file and tests start many workers. The compiled package (dist/) never loads this file.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const cacheDir = path.join(tmpdir(), 'bulktext-dev-ts-cache');
let typescript;

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    const parent = context.parentURL ?? '';
    if (err?.code === 'ERR_MODULE_NOT_FOUND' && specifier.startsWith('.') && specifier.endsWith('.js') && parent.endsWith('.ts')) {
      return next(`${specifier.slice(0, -3)}.ts`, context);
    }
    throw err;
  }
}

async function transpile(url, source) {
  const key = createHash('sha256').update(url).update('\0').update(source).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  try {
    return await readFile(cached, 'utf8');
  } catch {
    // Not cached yet.
  }
  typescript ??= (await import('typescript')).default;
  const output = typescript.transpileModule(source, {
    fileName: url,
    compilerOptions: {
      module: typescript.ModuleKind.ESNext,
      target: typescript.ScriptTarget.ES2022,
      isolatedModules: true,
    },
  }).outputText;
  await mkdir(cacheDir, { recursive: true });
  // Write then rename, so a concurrent reader never sees half a file.
  const temp = `${cached}.${randomUUID()}`;
  await writeFile(temp, output);
  await rename(temp, cached);
  return output;
}

export async function load(url, context, next) {
  if (url.startsWith('file:') && url.endsWith('.ts')) {
    const source = await readFile(new URL(url), 'utf8');
    return { format: 'module', source: await transpile(url, source), shortCircuit: true };
  }
  return next(url, context);
}
