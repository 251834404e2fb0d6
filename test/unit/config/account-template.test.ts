/**
 * The account file `bulktext init` writes (sample-data/account.example.yaml → jobs/account.yaml) validates with
 * the real loader and fits the sample job: Telnyx's default account limits and the job's two senders.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ACCOUNT_RATE } from '../../../src/config/account-spec.js';
import { limitModel } from '../../../src/config/limit-model.js';
import { loadAccountSpec } from '../../../src/config/load-account-spec.js';
import { loadJobSpec } from '../../../src/config/load-job-spec.js';
import { repoRoot } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/temp.js';

const template = path.join(repoRoot, 'sample-data', 'account.example.yaml');

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('bulktext-account-template-');
});
afterEach(() => tmp.cleanup());

describe('the starter account file', () => {
  it('parses with the account loader: Telnyx default limits and the sample job\'s two toll-free numbers', async () => {
    const account = (await loadAccountSpec(template, {}, tmp.dir))!;
    expect(account.limits).toEqual({ sms_per_second: DEFAULT_ACCOUNT_RATE.sms, mms_per_second: DEFAULT_ACCOUNT_RATE.mms });
    expect([...account.senders.values()]).toEqual([
      { id: '+18445550001', type: 'toll_free', typeSource: 'inferred', country: 'US', perSecond: undefined, campaign: undefined },
      { id: '+18445550002', type: 'toll_free', typeSource: 'inferred', country: 'US', perSecond: undefined, campaign: undefined },
    ]);
    expect(account.campaigns).toEqual({});
    expect(account.brands).toEqual({});
    expect(account.groups).toEqual({});
  });

  it('is found where init puts it (jobs/account.yaml) and declares every sender of the sample job, whose rate only lowers it', async () => {
    mkdirSync(path.join(tmp.dir, 'jobs'));
    copyFileSync(template, path.join(tmp.dir, 'jobs', 'account.yaml'));
    const account = (await loadAccountSpec(undefined, {}, tmp.dir))!;
    expect(account.file).toBe(path.join(tmp.dir, 'jobs', 'account.yaml'));

    const job = await loadJobSpec(path.join(repoRoot, 'jobs', 'spring-promo.yaml'));
    for (const from of job.sender.from ?? []) expect(account.senders.has(from), from).toBe(true);
    const model = limitModel(job, account, false);
    const without = limitModel(job, undefined, false);
    // The job's 20/s and 10/s per sender set the pace with or without the account file.
    expect(model.runCeiling).toBe(without.runCeiling);
    expect(model.runCeiling).toBe(20);
    expect(model.jobPerSender).toBe(10);
  });
});
