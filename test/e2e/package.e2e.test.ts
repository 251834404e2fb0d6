/**
 * The package as a user gets it: `npm pack` (prepack builds dist/), then the tarball installed into a
 * fresh directory with exactly the lock file's dependency versions, then the installed bin and an
 * `import … from 'bulktext'` through the exports map.
 *
 * Kept offline and fast on purpose, and said so here:
 * - The pack runs in a copy of the project, so its prepack (which empties dist/) never races the other
 *   e2e tests that run the repo's dist/ at the same time.
 * - The install is `npm ci --offline` over a lock file made from the repo's: every runtime dependency at
 *   its locked version and integrity, served from the npm cache the repo's own `npm ci` filled. Tests
 *   never reach the registry.
 * - better-sqlite3 compiles from source here (no prebuilt binary is reachable; ~2.5 min on two cores). The
 *   install skips install scripts, the test shows that doctor then reports the module as not loading, and
 *   then reuses the binary the repo's own install built: the same better-sqlite3 version (asserted) for
 *   the same Node binary and ABI (this process runs both).
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const exec = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let tmp: ReturnType<typeof tempDir>;
let app: string;
let tarball: string;
let packed: string[];
let work: string;

/** The installed CLI, as a user runs it, in `cwd`. */
function bulktext(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const bin = path.join(app, 'node_modules', '.bin', 'bulktext');
  return exec(bin, args, { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 90_000 }).then(
    (r) => ({ code: 0, ...r }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}

beforeAll(async () => {
  tmp = tempDir('bulktext-pack-');
  const project = path.join(tmp.dir, 'project');
  for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'src', 'bin', 'jobs', 'sample-data', 'deploy', 'test', 'bench']) {
    cpSync(path.join(repoRoot, entry), path.join(project, entry), { recursive: true });
  }
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(project, 'node_modules'));
  const pack = await exec(npm, ['pack', '--json', '--pack-destination', tmp.dir], { cwd: project, timeout: 180_000, maxBuffer: 16 << 20 });
  const result = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as [{ filename: string; files: { path: string }[] }];
  tarball = path.join(tmp.dir, result[0].filename);
  packed = result[0].files.map((f) => f.path);

  // A consumer whose lock pins bulktext's runtime dependencies to the repo's locked versions.
  app = path.join(tmp.dir, 'app');
  mkdirSync(app);
  const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
  const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
  const dependency = `file:${path.basename(tarball)}`;
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', dependencies: { bulktext: dependency } },
    'node_modules/bulktext': {
      version: manifest.version,
      resolved: dependency,
      license: manifest.license,
      dependencies: manifest.dependencies,
      bin: manifest.bin,
      engines: manifest.engines,
    },
  };
  for (const [key, entry] of Object.entries(lock.packages)) if (key !== '' && entry.dev !== true) packages[key] = entry;
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { bulktext: dependency } }));
  writeFileSync(path.join(app, 'package-lock.json'), JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }));
  cpSync(tarball, path.join(app, path.basename(tarball)));
  await exec(npm, ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: app, timeout: 180_000 });
  work = path.join(tmp.dir, 'work');
  mkdirSync(work);
}, 400_000);

afterAll(() => tmp?.cleanup());

describe('the packed and installed package', { timeout: 180_000 }, () => {
  it('carries dist/, the bin, docs, samples and the unit, and nothing it does not need', () => {
    for (const f of ['bin/bulktext.js', 'dist/cli/main.js', 'dist/index.js', 'dist/index.d.ts', 'README.md', 'LICENSE', 'CHANGELOG.md',
      'jobs/spring-promo.yaml', 'sample-data/recipients.csv', 'sample-data/account.example.yaml', 'deploy/bulktext-scheduler.service', 'package.json']) {
      expect(packed).toContain(f);
    }
    expect(packed.filter((f) => /^(src|test|bench)\//.test(f) || f.endsWith('.map') || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).toEqual([]);
  });

  it('installs with the locked versions, and doctor names the native module until it is built', async () => {
    const installed = (name: string) => JSON.parse(readFileSync(path.join(app, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
    const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
    for (const name of Object.keys(JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).dependencies as object)) {
      expect(installed(name).version, name).toBe(lock.packages[`node_modules/${name}`]!.version);
    }
    const before = await bulktext(['doctor'], work);
    expect(before.stdout).toMatch(/^FAIL {2}better-sqlite3's native module does not load .*npm run build-release/m);

    // The binary the repo's own install built: same package version, same Node (this one).
    expect(installed('better-sqlite3').version).toBe(JSON.parse(readFileSync(path.join(repoRoot, 'node_modules/better-sqlite3/package.json'), 'utf8')).version);
    const release = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
    mkdirSync(path.dirname(path.join(app, release)), { recursive: true });
    cpSync(path.join(repoRoot, release), path.join(app, release));
    const after = await bulktext(['doctor'], work);
    expect(after.stdout).toMatch(/^ok {4}better-sqlite3 [\d.]+ loads/m);
  });

  it('runs: --version, --help, init and the sandbox quick start', async () => {
    expect((await bulktext(['--version'], work)).stdout.trim()).toBe('0.2.0');
    const help = await bulktext(['--help'], work);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/bulktext init \[dir\]/);
    expect(help.stdout).toMatch(/bulktext doctor/);
    expect((await bulktext(['init'], work)).code).toBe(0);
    expect(readFileSync(path.join(work, 'jobs/account.yaml'), 'utf8')).toBe(readFileSync(path.join(repoRoot, 'sample-data/account.example.yaml'), 'utf8'));
    const run = await bulktext(['run', 'jobs/spring-promo.yaml', '--sandbox', '--json', '--quiet'], work);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ state: 'completed', sandbox: true, counts: { sent: 33, skipped: 7 } });
  });

  it('is imported by name through its exports map, typed, and runs a sandbox campaign through the API', async () => {
    writeFileSync(
      path.join(app, 'campaign.ts'),
      [
        "import { startCampaign, type RunStatus, type RunProgress } from 'bulktext';",
        'let last: RunProgress | undefined;',
        "const status: RunStatus = await startCampaign('jobs/spring-promo.yaml', { db: 'api.db', sandbox: true, cwd: process.argv[2]!, onProgress: (p) => (last = p) });",
        'console.log(JSON.stringify({ state: status.state, sent: status.counts.sent, progress: last?.sent }));',
      ].join('\n'),
    );
    // Compiled against the .d.ts the exports map points at, as a strict TypeScript consumer would.
    const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
    await exec(process.execPath, [tsc, '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
      '--skipLibCheck', '--typeRoots', path.join(repoRoot, 'node_modules/@types'), '--types', 'node', 'campaign.ts'], { cwd: app, timeout: 120_000 });
    const r = await exec(process.execPath, ['campaign.js', work], { cwd: app, timeout: 90_000 });
    expect(JSON.parse(r.stdout)).toEqual({ state: 'completed', sent: 33, progress: 33 });
    // Only the exports map's entry is public.
    const deep = await exec(process.execPath, ['--input-type=module', '-e', "await import('bulktext/dist/cli/main.js')"], { cwd: app }).catch((e: { stderr: string }) => e);
    expect(deep.stderr).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });
});
