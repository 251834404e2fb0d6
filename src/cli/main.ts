/**
 * The CLI edge: the only module that touches argv, env, exit codes and signals. yargs maps argv once
 * into typed options; every command is a plain function of (options, io); errors become exit codes in
 * one place (exit-codes.ts).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { describeError } from '../shared/errors.js';
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
  const io: Io = {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    env: process.env,
    isTTY: process.stderr.isTTY === true,
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

const dbOption = { type: 'string', describe: 'ledger file (default: $BULKTEXT_DB or ./bulktext.db)' } as const;
const accountOption = { type: 'string', describe: 'account file: limits and senders (default: $BULKTEXT_ACCOUNT or jobs/account.yaml if it exists)' } as const;

export async function main(argv: string[]): Promise<number> {
  const { io, dispose } = createIo();
  let exitCode: number = ExitCode.ok;
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
          .option('db', dbOption)
          .option('account', accountOption)
          .option('sandbox', { type: 'boolean', default: false, describe: 'send to the built-in Telnyx simulator (no key, nothing leaves this machine)' })
          .option('json', { type: 'boolean', default: false, describe: 'print the final status object on stdout' })
          .option('force', { type: 'boolean', default: false, describe: 'start even if an earlier run of this job over the same source is unfinished' })
          .option('quiet', { type: 'boolean', default: false, describe: 'no progress output' })
          .option('wait', { type: 'boolean', default: true, describe: 'wait for send windows to open (--no-wait: leave deferred rows for resume)' })
          .option('plan', { type: 'string', describe: 'the plan_hash from `bulktext plan`: refuse if the job, source or suppressions changed' })
          .option('metrics-port', { type: 'number', describe: 'serve Prometheus /metrics and /healthz on 127.0.0.1:N while the run lasts' })
          .option('webhooks-port', { type: 'number', describe: 'receive Telnyx delivery receipts on 127.0.0.1:N while the run lasts (key: $TELNYX_PUBLIC_KEY)' }),
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
              quiet: a.quiet,
              wait: a.wait,
              plan: a.plan,
              metricsPort: a.metricsPort,
              webhooksPort: a.webhooksPort,
            },
            io,
          ),
        ),
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
          .option('sample', { type: 'number', default: 0, describe: 'render N example messages as they will be sent' }),
      async (a) => finish(await (await import('./commands/plan.js')).planCommand({ jobFile: a.jobFile, db: a.db, account: a.account, json: a.json, sample: a.sample }, io)),
    )
    .command(
      'resume <run-id>',
      'continue an interrupted or aborted run',
      (y) =>
        y
          .positional('run-id', { type: 'string', demandOption: true })
          .option('db', dbOption)
          .option('account', accountOption)
          .option('resend-unknown', { type: 'boolean', default: false, describe: 'also send rows whose earlier request is in doubt (may text those people twice)' })
          .option('json', { type: 'boolean', default: false })
          .option('quiet', { type: 'boolean', default: false })
          .option('wait', { type: 'boolean', default: true, describe: 'wait for send windows to open (--no-wait: leave deferred rows)' })
          .option('metrics-port', { type: 'number', describe: 'serve Prometheus /metrics and /healthz on 127.0.0.1:N while the run lasts' })
          .option('webhooks-port', { type: 'number', describe: 'receive Telnyx delivery receipts on 127.0.0.1:N while the run lasts (key: $TELNYX_PUBLIC_KEY)' }),
      async (a) =>
        finish(
          await (await import('./commands/resume.js')).resumeCommand(
            { runId: a.runId, db: a.db, account: a.account, resendUnknown: a.resendUnknown, json: a.json, quiet: a.quiet, wait: a.wait, metricsPort: a.metricsPort, webhooksPort: a.webhooksPort },
            io,
          ),
        ),
    )
    .command(
      'status [run-id]',
      'show one run, or list runs (newest first)',
      (y) => y.positional('run-id', { type: 'string' }).option('db', dbOption).option('json', { type: 'boolean', default: false }),
      async (a) => finish((await import('./commands/status.js')).statusCommand({ runId: a.runId, db: a.db, json: a.json }, io)),
    )
    .command(
      'report <run-id>',
      'one line per input row: outcome, message id, cost, error',
      (y) =>
        y
          .positional('run-id', { type: 'string', demandOption: true })
          .option('db', dbOption)
          .option('format', { choices: ['csv', 'json'] as const, default: 'csv' as const })
          .option('out', { type: 'string', describe: 'write to this file instead of stdout' }),
      async (a) => finish(await (await import('./commands/report.js')).reportCommand({ runId: a.runId, db: a.db, format: a.format, out: a.out }, io)),
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
          .option('sandbox', { type: 'boolean', default: false, describe: 'send to the built-in simulator' }),
      async (a) =>
        finish(
          await (await import('./commands/schedule.js')).scheduleCommand(
            { jobs: a.jobs, db: a.db, account: a.account, metricsPort: a.metricsPort, list: a.list, count: a.count, sandbox: a.sandbox },
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
    .demandCommand(1, 'name a command')
    .strict()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      if (err !== undefined && err !== null) throw err;
      io.stderr(`bulktext: ${msg}\nrun \`bulktext --help\` for usage\n`);
      exitCode = ExitCode.usage;
    })
    .exitProcess(false);

  try {
    await parser.parseAsync();
  } catch (err) {
    exitCode = exitCodeFor(err);
    const message = describeError(err);
    io.stderr(`bulktext: ${message}\n`);
  } finally {
    dispose();
  }
  return exitCode;
}

process.exitCode = await main(hideBin(process.argv));
