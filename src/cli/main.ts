/**
 * The CLI edge: the only module that touches argv, env, exit codes and signals. yargs maps argv once
 * into typed options; every command is a plain function of (options, io); errors become exit codes in
 * one place (exit-codes.ts).
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { resolveDbPath } from '../config/env.js';
import { ledgerStorageError } from '../ledger/storage-error.js';
import { AppError, describeError } from '../shared/errors.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import type { Io } from './io.js';

// Each command's module is loaded only when that command runs: loading all of them (SQLite, undici, the
// simulator, prom-client…) cost ~0.5 s of start-up, half of resume's budget for its first send.

function createIo(): { io: Io; dispose: () => void } {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (name: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      process.stderr.write(`\n${name}: finishing requests in flight, then stopping (again to stop at once)\n`);
      controller.abort(new Error(name));
      return;
    }
    // Second signal: leave now. Rows in flight stay `sending` in the ledger and become `unknown` on resume.
    process.stderr.write(`\n${name}: stopping now; resume reports rows that were in flight as unknown\n`);
    process.exit(ExitCode.interrupted);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A reader that went away (`bulktext report … | head -1`) ends the command quietly, as `git log | head`
  // does; any other failure to write standard output (`> /dev/full`) is one clear line and exit 2.
  const onStdoutError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(ExitCode.ok);
    process.stderr.write(`bulktext: cannot write to standard output: ${err.message}\n`);
    process.exit(ExitCode.usage);
  };
  // Progress and hints on a closed stderr are dropped; the command (perhaps a run mid-send) goes on.
  const onStderrError = () => {};
  // Left in place after the command returns: its last writes may fail after that.
  process.stdout.on('error', onStdoutError);
  process.stderr.on('error', onStderrError);
  const io: Io = {
    stdout: (s) => void process.stdout.write(s),
    stdoutBytes: async (b) => {
      if (!process.stdout.write(b)) await once(process.stdout, 'drain');
    },
    stderr: (s) => void process.stderr.write(s),
    env: process.env,
    isTTY: process.stderr.isTTY === true,
    stdinIsTTY: process.stdin.isTTY === true,
    ask: async (question) => {
      const { createInterface } = await import('node:readline/promises');
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question, { signal: controller.signal });
      } finally {
        rl.close();
      }
    },
    signal: controller.signal,
    cwd: process.cwd(),
  };
  return {
    io,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** yargs turns `--port abc` into NaN and lets it through; a number option must hold a number. */
function rejectNonNumbers(argv: Record<string, unknown>): true {
  for (const [key, value] of Object.entries(argv)) {
    const values = Array.isArray(value) ? (value as unknown[]) : [value];
    // yargs lists each option twice (kebab-case and camelCase): name it once, as it is typed.
    if (!/[A-Z]/.test(key) && values.some((v) => typeof v === 'number' && Number.isNaN(v))) {
      throw new Error(`--${key} must be a number`);
    }
  }
  return true;
}

/** yargs names an unknown `--resend-unknwn` twice ("resend-unknwn, resendUnknwn"): keep the spelling typed. */
function withoutCamelCase(msg: string): string {
  const m = /^Unknown arguments?: (.*)$/.exec(msg);
  if (m === null) return msg;
  const names = m[1]!.split(', ');
  const camel = (s: string) => s.replace(/-+([^-])/g, (_, c: string) => c.toUpperCase());
  const kept = names.filter((n) => !names.some((other) => other !== n && other.includes('-') && camel(other) === n));
  return `Unknown argument${kept.length > 1 ? 's' : ''}: ${kept.join(', ')}`;
}

// yargs would look for a package.json above the script it was started as: for an installed bin that is a
// symlink in some bin/ directory, whose package.json (if any) is not ours.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const dbOption = { type: 'string', describe: 'ledger file (default: $BULKTEXT_DB or ./bulktext.db)' } as const;
/** --db of the commands that take either ledger (run, resume, status, cancel). */
const anyDbOption = { type: 'string', describe: 'ledger file or postgres://user[:password]@host[:port]/database (default: $BULKTEXT_DB or ./bulktext.db)' } as const;
const accountOption = { type: 'string', describe: 'account file: limits and senders (default: $BULKTEXT_ACCOUNT or jobs/account.yaml if it exists)' } as const;

export async function main(argv: string[]): Promise<number> {
  const { io, dispose } = createIo();
  let exitCode: number = ExitCode.ok;
  // The ledger the command names, so a storage failure that reaches this edge can name the file.
  let dbOptionGiven: string | undefined;
  const finish = (code: number) => {
    exitCode = code;
  };
  const parser = yargs(argv)
    .scriptName('bulktext')
    .usage('$0 <command> [options]\n\nBulk SMS/MMS through the Telnyx Messages API v2: throttled, resumable, with a SQLite ledger.')
    .command(
      'run <job-file>',
      'send a campaign from a job file',
      (y) =>
        y
          .positional('job-file', { type: 'string', demandOption: true, describe: 'jobs/*.yaml or *.json' })
          .option('db', anyDbOption)
          .option('account', accountOption)
          .option('sandbox', { type: 'boolean', default: false, describe: 'send to the built-in Telnyx simulator (no key, nothing leaves this machine)' })
          .option('json', { type: 'boolean', default: false, describe: 'print the final status object on stdout' })
          .option('force', { type: 'boolean', default: false, describe: 'start even if an earlier run of this job over the same source is unfinished' })
          .option('allow-repeat', { type: 'boolean', default: false, describe: 'also text numbers an earlier run of this job already texted (within dedupe.window)' })
          .option('quiet', { type: 'boolean', default: false, describe: 'no progress output' })
          .option('wait', { type: 'boolean', default: true, describe: 'wait for send windows to open (--no-wait: leave deferred rows for resume)' })
          .option('plan', { type: 'string', describe: 'the plan_hash from `bulktext plan`: refuse if the job, source or suppressions changed' })
          .option('metrics-port', { type: 'number', describe: 'serve Prometheus /metrics and /healthz on 127.0.0.1:N while the run lasts' })
          .option('dashboard-port', { type: 'number', describe: 'serve the read-only web dashboard on 127.0.0.1:N while the run lasts' })
          .option('webhooks-port', { type: 'number', describe: 'receive Telnyx delivery receipts on 127.0.0.1:N while the run lasts (key: $TELNYX_PUBLIC_KEY)' })
          .option('canary', { type: 'number', describe: 'send only the first N sendable rows, then stop (resumable) so you can check them' })
          .option('test-to', { type: 'string', array: true, describe: "send the first rows' messages to these numbers instead (a test run), e.g. +14155550123,+14155550124" })
          .option('yes', { type: 'boolean', default: false, alias: 'y', describe: 'do not ask for confirmation on a terminal' })
          .conflicts('canary', 'test-to'),
      async (a) =>
        finish(
          await (await import('./commands/run.js')).runCommand(
            {
              jobFile: a.jobFile,
              db: a.db,
              account: a.account,
              sandbox: a.sandbox,
              json: a.json,
              force: a.force,
              allowRepeat: a.allowRepeat,
              quiet: a.quiet,
              wait: a.wait,
              plan: a.plan,
              metricsPort: a.metricsPort,
              webhooksPort: a.webhooksPort,
              dashboardPort: a.dashboardPort,
              canary: a.canary,
              testTo: a.testTo,
              yes: a.yes,
            },
            io,
          ),
        ),
    )
    .command(
      'cancel <run-id>',
      'stop a run for good: the process sending it stops as on Ctrl-C; an interrupted run is never resumed',
      (y) => y.positional('run-id', { type: 'string', demandOption: true }).option('db', anyDbOption),
      async (a) => finish(await (await import('./commands/cancel.js')).cancelCommand({ runId: a.runId, db: a.db }, io)),
    )
    .command(
      'worker',
      'send alongside `run`/`resume` on a PostgreSQL ledger: join every running run of its kind, drain it with the other workers, wait for more',
      (y) =>
        y
          .option('db', { ...dbOption, describe: 'the PostgreSQL ledger, postgres://user[:password]@host[:port]/database (default: $BULKTEXT_DB)' })
          .option('account', accountOption)
          .option('sandbox', { type: 'boolean', default: false, describe: 'join sandbox runs, sending to a simulator of its own (no API key)' })
          .option('once', { type: 'boolean', default: false, describe: 'exit once no run is left instead of waiting for more' })
          .option('quiet', { type: 'boolean', default: false }),
      async (a) =>
        finish(await (await import('./commands/worker.js')).workerCommand({ db: a.db, account: a.account, sandbox: a.sandbox, once: a.once, quiet: a.quiet }, io)),
    )
    .command(
      'prune',
      "delete old finished runs' message texts, attempts and receipt payloads (keeping counts, costs and who was texted), then reclaim the space",
      (y) =>
        y
          .option('before', { type: 'string', demandOption: true, describe: 'runs that finished longer ago than this (90d, 12h) or before this date (2026-09-01)' })
          .option('keep-counts', { type: 'boolean', default: false, describe: 'keep the rows that never became a message (skipped, failed, expired), so every count stays' })
          .option('db', dbOption),
      async (a) => finish((await import('./commands/prune.js')).pruneCommand({ before: a.before, keepCounts: a.keepCounts, db: a.db }, io)),
    )
    .command(
      'migrate-ledger',
      "move a SQLite ledger's runs, messages, attempts, receipts, campaign memory and suppressions into an empty PostgreSQL ledger",
      (y) =>
        y
          .option('from', { type: 'string', describe: 'the SQLite ledger file (default: ./bulktext.db)' })
          .option('to', { type: 'string', describe: 'the PostgreSQL ledger, postgres://user[:password]@host[:port]/database (default: $BULKTEXT_DB)' }),
      async (a) => finish(await (await import('./commands/migrate-ledger.js')).migrateLedgerCommand({ from: a.from, to: a.to }, io)),
    )
    .command(
      'plan <job-file>',
      'what a run would send: rows, segments, cost, duration, warnings; sends nothing',
      (y) =>
        y
          .positional('job-file', { type: 'string', demandOption: true })
          .option('db', dbOption)
          .option('account', accountOption)
          .option('json', { type: 'boolean', default: false })
          .option('sample', { type: 'number', default: 0, describe: 'render N example messages as they will be sent' })
          .option('allow-repeat', { type: 'boolean', default: false, describe: 'plan a run with --allow-repeat (numbers texted before are sent again)' }),
      async (a) =>
        finish(
          await (await import('./commands/plan.js')).planCommand(
            { jobFile: a.jobFile, db: a.db, account: a.account, json: a.json, sample: a.sample, allowRepeat: a.allowRepeat },
            io,
          ),
        ),
    )
    .command(
      'resume <run-id>',
      'continue an interrupted or aborted run',
      (y) =>
        y
          .positional('run-id', { type: 'string', demandOption: true })
          .option('db', anyDbOption)
          .option('account', accountOption)
          .option('resend-unknown', { type: 'boolean', default: false, describe: 'also send rows whose earlier request is in doubt (may text those people twice)' })
          .option('retry-failed', {
            type: 'string',
            describe: 'also re-queue failed rows whose answers prove no message was created; with CODES (e.g. 40318,10011) only rows failed with those',
          })
          .option('json', { type: 'boolean', default: false })
          .option('quiet', { type: 'boolean', default: false })
          .option('wait', { type: 'boolean', default: true, describe: 'wait for send windows to open (--no-wait: leave deferred rows)' })
          .option('metrics-port', { type: 'number', describe: 'serve Prometheus /metrics and /healthz on 127.0.0.1:N while the run lasts' })
          .option('dashboard-port', { type: 'number', describe: 'serve the read-only web dashboard on 127.0.0.1:N while the run lasts' })
          .option('webhooks-port', { type: 'number', describe: 'receive Telnyx delivery receipts on 127.0.0.1:N while the run lasts (key: $TELNYX_PUBLIC_KEY)' }),
      async (a) =>
        finish(
          await (await import('./commands/resume.js')).resumeCommand(
            {
              runId: a.runId,
              db: a.db,
              account: a.account,
              resendUnknown: a.resendUnknown,
              retryFailed: a.retryFailed,
              json: a.json,
              quiet: a.quiet,
              wait: a.wait,
              metricsPort: a.metricsPort,
              webhooksPort: a.webhooksPort,
              dashboardPort: a.dashboardPort,
            },
            io,
          ),
        ),
    )
    .command(
      'status [run-id]',
      'show one run, or list runs (newest first)',
      (y) => y.positional('run-id', { type: 'string' }).option('db', anyDbOption).option('json', { type: 'boolean', default: false }),
      async (a) => finish(await (await import('./commands/status.js')).statusCommand({ runId: a.runId, db: a.db, json: a.json }, io)),
    )
    .command(
      'report <run-id>',
      'one line per input row: outcome, message id, cost, error',
      (y) =>
        y
          .positional('run-id', { type: 'string', demandOption: true })
          .option('db', dbOption)
          .option('format', { choices: ['csv', 'json'] as const, default: 'csv' as const })
          .option('out', { type: 'string', describe: 'write to this file instead of stdout' })
          .option('raw', { type: 'boolean', default: false, describe: "CSV: cells as stored, without the ' that keeps spreadsheets from running formulas" })
          .option('status', { type: 'string', describe: 'only rows in these statuses, comma-separated (e.g. failed,unknown)' }),
      async (a) =>
        finish(
          await (await import('./commands/report.js')).reportCommand({ runId: a.runId, db: a.db, format: a.format, out: a.out, raw: a.raw, status: a.status }, io),
        ),
    )
    .command(
      'webhooks',
      'receive Telnyx delivery receipts and STOP replies into the ledger (signed webhooks)',
      (y) =>
        y
          .option('port', { type: 'number', default: 8080, describe: 'port to listen on' })
          .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (put a reverse proxy in front)' })
          .option('path', { type: 'string', default: '/telnyx', describe: 'URL path Telnyx posts to' })
          .option('db', dbOption)
          .option('public-key', { type: 'string', describe: 'Telnyx webhook public key, base64 (default: $TELNYX_PUBLIC_KEY)' }),
      async (a) =>
        finish(await (await import('./commands/webhooks.js')).webhooksCommand({ port: a.port, host: a.host, path: a.path, db: a.db, publicKey: a.publicKey }, io)),
    )
    .command(
      'reconcile <run-id>',
      'fetch the delivery status of sent messages that have no final status yet (GET /messages/{id})',
      (y) =>
        y
          .positional('run-id', { type: 'string', demandOption: true })
          .option('db', dbOption)
          .option('json', { type: 'boolean', default: false })
          .option('rate', { type: 'number', describe: "requests per second (default: the run's messages_per_second)" }),
      async (a) => finish(await (await import('./commands/reconcile.js')).reconcileCommand({ runId: a.runId, db: a.db, json: a.json, rate: a.rate }, io)),
    )
    .command(
      'suppressions',
      'list the numbers every run skips (STOP replies, 40300 refusals, manual entries)',
      (y) =>
        y
          .option('db', dbOption)
          .option('json', { type: 'boolean', default: false })
          .option('add', { type: 'string', array: true, describe: 'E.164 numbers to add by hand' })
          .option('remove', { type: 'string', array: true, describe: 'E.164 numbers to remove' }),
      async (a) =>
        finish((await import('./commands/suppressions.js')).suppressionsCommand({ db: a.db, json: a.json, add: a.add, remove: a.remove }, io)),
    )
    .command(
      'schedule',
      'run scheduled jobs at their cron slots (a daemon); --list shows the next firings',
      (y) =>
        y
          .option('jobs', { type: 'string', default: 'jobs', describe: 'directory of job files' })
          .option('db', dbOption)
          .option('account', { type: 'string', describe: 'account file: limits and senders (default: $BULKTEXT_ACCOUNT or account.yaml in --jobs if it exists)' })
          .option('metrics-port', { type: 'number', describe: 'serve /metrics and /healthz on 127.0.0.1:N' })
          .option('list', { type: 'boolean', default: false, describe: "print each job's next firings and exit" })
          .option('count', { type: 'number', default: 5, describe: 'firings per job for --list' })
          .option('sandbox', { type: 'boolean', default: false, describe: 'send to the built-in simulator' })
          .option('dashboard-port', { type: 'number', describe: 'serve the read-only web dashboard on 127.0.0.1:N' }),
      async (a) =>
        finish(
          await (await import('./commands/schedule.js')).scheduleCommand(
            { jobs: a.jobs, db: a.db, account: a.account, metricsPort: a.metricsPort, list: a.list, count: a.count, sandbox: a.sandbox, dashboardPort: a.dashboardPort },
            io,
            {
              onHangup: (listener) => {
                process.on('SIGHUP', listener);
                return () => void process.off('SIGHUP', listener);
              },
            },
          ),
        ),
    )
    .command(
      'dashboard',
      'serve a read-only web dashboard over the ledger: runs, a live run, schedule, suppressions',
      (y) =>
        y
          .option('port', { type: 'number', default: 8090, describe: 'port to listen on (0: any free port)' })
          .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on; any other than loopback requires $BULKTEXT_DASHBOARD_TOKEN' })
          .option('db', dbOption),
      async (a) => finish(await (await import('./commands/dashboard.js')).dashboardCommand({ port: a.port, host: a.host, db: a.db }, io)),
    )
    .command(
      'simulator',
      'run the local Telnyx simulator (for demos, dry runs and SDK testing)',
      (y) =>
        y
          .option('port', { type: 'number', default: 0, describe: 'port on 127.0.0.1 (0: any free port)' })
          .option('host', { type: 'string', default: '127.0.0.1' })
          .option('api-key', { type: 'string', describe: 'accept only this bearer key (default: any non-empty key)' })
          .option('scenario', { type: 'string', describe: 'JSON file of simulator options (rates, faults, outcomes, webhooks)' }),
      async (a) =>
        finish(
          await (await import('./commands/simulator.js')).simulatorCommand(
            {
              port: a.port,
              host: a.host,
              ...(a.apiKey === undefined ? {} : { apiKey: a.apiKey }),
              ...(a.scenario === undefined ? {} : { scenario: a.scenario }),
            },
            { stdout: io.stdout, stderr: io.stderr, signal: io.signal },
          ),
        ),
    )
    .command(
      'init [dir]',
      'write a starter job, sample recipients, a suppression list and an account file into dir (default: here)',
      (y) =>
        y
          .positional('dir', { type: 'string', describe: 'directory to write into (created if missing)' })
          .option('force', { type: 'boolean', default: false, describe: 'overwrite files that exist' }),
      async (a) => finish((await import('./commands/init.js')).initCommand({ dir: a.dir, force: a.force }, io)),
    )
    .command(
      'doctor',
      'check what a real run needs: Node, the SQLite module, the ledger path, the API key and URL, the webhook key',
      (y) => y.option('db', dbOption),
      async (a) => finish(await (await import('./commands/doctor.js')).doctorCommand({ db: a.db }, io, process.versions.node)),
    )
    .middleware((a) => {
      if (typeof a['db'] === 'string') dbOptionGiven = a['db'];
    })
    .demandCommand(1, 'name a command')
    .strict()
    .help()
    .alias('h', 'help')
    .version(version)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .check(rejectNonNumbers)
    .fail((msg, err, y) => {
      // yargs hands a command's own error to fail() too, without a message, after the command ran: it is
      // not a usage error, and parseAsync rejects with it anyway.
      if (msg === null || msg === undefined) throw err;
      // Throwing (rather than noting an exit code) is what stops yargs before the command's handler: a
      // typo such as `--sandbx` must never let the command start.
      y.showHelp((help) => io.stderr(`${help}\n\n`));
      throw new AppError('ERR_USAGE', `${withoutCamelCase(msg)}\nrun \`bulktext --help\` for every command`);
    })
    .exitProcess(false);

  try {
    await parser.parseAsync();
  } catch (thrown) {
    // A full disk or a broken ledger file is the operator's to fix, not a bug (exit 2; exit 4 while sending).
    const err = ledgerStorageError(thrown, ledgerPathForErrors(dbOptionGiven, io), 'before-sending');
    exitCode = exitCodeFor(err);
    const message = describeError(err);
    io.stderr(`bulktext: ${message}\n`);
  } finally {
    dispose();
  }
  return exitCode;
}

process.exitCode = await main(hideBin(process.argv));

/** The ledger path a storage error names; a URL in --db/BULKTEXT_DB (migrate-ledger's) names no file. */
function ledgerPathForErrors(db: string | undefined, io: Io): string {
  try {
    return resolveDbPath(db, io.env, io.cwd);
  } catch {
    return '(no ledger file: --db or BULKTEXT_DB holds a URL)';
  }
}
