import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executorSettings } from '../../src/cli/executor-settings.js';

/** Where an Executor finds the Scheduler and its client: the environment, or an env file. */

async function envFile(text: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'sluice-env-')), 'executor.env');
  await writeFile(path, text);
  return path;
}

const ENV = {
  SLUICE_URL: 'http://127.0.0.1:8470',
  SLUICE_CLIENT_ID: 'runner',
  SLUICE_CLIENT_SECRET: 'from-env',
};

describe('executor settings', () => {
  it('reads the Scheduler and the client from the environment', async () => {
    const settings = await executorSettings(ENV, undefined);

    expect(settings.url).toBe(ENV.SLUICE_URL);
    expect(await settings.credentials()).toEqual({
      clientId: 'runner',
      clientSecret: 'from-env',
    });
  });

  it('takes the env file over the environment and reads it again for a rotated secret', async () => {
    const path = await envFile('# mounted\nexport SLUICE_CLIENT_SECRET="first"\nOTHER=x\n');
    const settings = await executorSettings(ENV, path);
    expect((await settings.credentials()).clientSecret).toBe('first');

    await writeFile(path, "SLUICE_CLIENT_SECRET='second'\n");

    expect(await settings.credentials()).toEqual({ clientId: 'runner', clientSecret: 'second' });
  });

  it('names the missing variable and where it was looked for', async () => {
    const path = await envFile('SLUICE_CLIENT_ID=runner\n');

    await expect(executorSettings({ SLUICE_URL: ENV.SLUICE_URL }, path)).rejects.toThrow(
      `SLUICE_CLIENT_SECRET is not set in the environment or ${path}`,
    );
  });

  it('names the line of an env file that is not NAME=value, without its text', async () => {
    const path = await envFile('SLUICE_CLIENT_ID=runner\nsecret-value-here\n');

    const failure = executorSettings(ENV, path);

    await expect(failure).rejects.toThrow(`Line 2 of the env file '${path}' is not NAME=value`);
    await expect(failure).rejects.not.toThrow('secret-value-here');
  });

  it('names an env file that cannot be read', async () => {
    await expect(executorSettings(ENV, '/nonexistent/executor.env')).rejects.toThrow(
      "Could not read the env file '/nonexistent/executor.env' (ENOENT)",
    );
  });
});
