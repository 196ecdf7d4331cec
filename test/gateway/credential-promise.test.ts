import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEngineAdapter } from '../../src/engines/create-engine-adapter.js';
import type { EngineAdapter } from '../../src/engines/engine-adapter.js';
import { openStateStore } from '../../src/state/open-state-store.js';
import type { KeyRing } from '../../src/state/state-types.js';
import { postgresTestSettings } from '../helpers/engines.js';
import {
  checkExecutorProcess,
  type ExecutorProcess,
  type ExecutorProcessOptions,
  startExecutorProcess,
} from '../helpers/executor-process.js';
import { type SchedulerProcess, startSchedulerProcess } from '../helpers/scheduler-process.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../helpers/state-backends.js';
import { type CliResult, runCli, writeProject } from '../helpers/temp-project.js';
import { type DecryptedState, readDecryptedState } from './promise/decrypted-state.js';
import { ordersModel, promiseProjectConfig, refundsModel } from './promise/promise-project.js';
import {
  ENCODINGS,
  findSecretForms,
  type Haystack,
  plantSecret,
  secretForms,
} from './promise/secret-forms.js';
import { type SocketRecorder, startSocketRecorder } from './promise/socket-recorder.js';
import { createStateWithClients, type PromiseClients } from './promise/state-clients.js';
import { storedTaskErrors } from './promise/stored-errors.js';

/**
 * The hybrid deployment's promise, end to end: the Scheduler never sees an engine credential. A
 * `sluice scheduler` process on an encrypted SQLite state file, with no project of its own, sits
 * behind a TCP relay that keeps every byte it receives and sends. A `sluice executor` process and
 * the remote CLI reach it only through the relay; the project's PostgreSQL gateway reads its
 * password from a file (`${file:...}` in sluice.yaml). The test server trusts every login, so the
 * password is a random, distinctive one the engine accepts unchecked. A plan is applied and run;
 * then a second Executor, given a wrong port by a variable, fails to connect. Afterwards the
 * password and a connection string holding it are searched, in every encoding of
 * promise/secret-forms.ts, in every row of the state with every payload decrypted, in the
 * Scheduler's output, in the relayed bytes, and in the output of the Executors and the CLI. None
 * may be found; positive controls show that the search finds them where they are.
 */

const sqlite = stateBackendsUnderTest().find((backend) => backend.name === 'sqlite');
const postgres = stateBackendsUnderTest().find((backend) => backend.name === 'postgres');

describe.skipIf(sqlite === undefined || postgres?.skipReason !== '')(
  'the credential promise of a hybrid deployment',
  () => {
    const schema = `p${randomBytes(4).toString('hex')}_shop`;
    const password = `pw-${randomBytes(16).toString('hex')}`;
    const pg = postgresTestSettings();
    const connectionString = `postgres://${pg.user}:${password}@${pg.host}:${pg.port}/${pg.database}`;
    const forms = [
      ...secretForms('password', password),
      ...secretForms('connection string', connectionString),
    ];

    const folders: string[] = [];
    let location: TestStateLocation | undefined;
    let keyRing: KeyRing;
    let clients: PromiseClients;
    let passwordFile: string;
    let root: string;
    let scheduler: SchedulerProcess | undefined;
    let recorder: SocketRecorder | undefined;
    let engine: EngineAdapter | undefined;
    const executors: ExecutorProcess[] = [];
    const outputs: Haystack[] = [];

    const keepOutput = (where: string, text: string) =>
      outputs.push({ where, bytes: Buffer.from(text, 'utf8') });
    const executorOptions = (env: Record<string, string>, args: string[] = []) =>
      ({
        projectDir: root,
        url: recorder?.url ?? '',
        clientId: clients.runner.clientId,
        secret: clients.runner.secret,
        args: ['--log-level', 'debug', ...args],
        env,
      }) satisfies ExecutorProcessOptions;
    const startExecutor = async (id: string, env: Record<string, string>) => {
      const executor = startExecutorProcess(executorOptions(env, ['--id', id]));
      executors.push(executor);
      await executor.waitForLog('started');
      return executor;
    };
    const remote = async (...args: string[]): Promise<CliResult> => {
      vi.stubEnv('SLUICE_URL', recorder?.url ?? '');
      vi.stubEnv('SLUICE_CLIENT_ID', clients.deployer.clientId);
      vi.stubEnv('SLUICE_CLIENT_SECRET', clients.deployer.secret);
      try {
        const result = await runCli('--project', root, ...args);
        keepOutput(`cli ${args.join(' ')}`, `${result.stdout}\n${result.stderr}`);
        return result;
      } finally {
        vi.unstubAllEnvs();
      }
    };
    const newFolder = async (prefix: string) => {
      const folder = await mkdtemp(join(tmpdir(), prefix));
      folders.push(folder);
      return folder;
    };

    beforeAll(async () => {
      location = await sqlite?.create();
      if (location?.location.backend !== 'sqlite') throw new Error('no SQLite location');
      const key = testStateKey('k1');
      keyRing = testKeyRing(key);
      clients = await createStateWithClients(location.location, keyRing);

      passwordFile = join(await newFolder('sluice-secret-'), 'warehouse-password');
      await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
      root = await writeProject({
        'sluice.yaml': promiseProjectConfig(passwordFile),
        'models/orders.sql': ordersModel(schema),
      });
      folders.push(root);

      scheduler = await startSchedulerProcess({
        projectDir: await newFolder('sluice-scheduler-'),
        stateUrl: `sqlite://${location.location.path}`,
        stateKeys: `${key.id}:${key.secret.toString('base64')}`,
        extraArgs: ['--log-level', 'debug'],
      });
      recorder = await startSocketRecorder(scheduler.url);
      engine = await createEngineAdapter({
        gateway: 'warehouse',
        type: 'postgres',
        settings: pg,
        baseDir: root,
      });
    }, 30_000);

    afterAll(async () => {
      for (const executor of executors) await executor.stop('SIGKILL');
      await scheduler?.kill('SIGKILL');
      await recorder?.close();
      const schemas = await engine?.query(
        'SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE $1',
        [`%${schema}%`],
      );
      for (const row of schemas?.rows ?? []) {
        await engine?.execute(`DROP SCHEMA ${engine.quoteIdentifier(String(row.name))} CASCADE`);
      }
      await engine?.close();
      await location?.cleanup();
      for (const folder of folders) await rm(folder, { recursive: true, force: true });
    });

    it('finds the password and the connection string in every encoding where they are planted', async () => {
      const file = { where: 'password file', bytes: await readFile(passwordFile) };

      expect(findSecretForms([file], forms)).toContain('password file: password plain');
      const secrets = { password, 'connection string': connectionString };
      for (const [label, secret] of Object.entries(secrets)) {
        for (const encoding of ENCODINGS) {
          for (const offset of [0, 1, 2]) {
            const where = `${label} ${encoding} at offset ${offset}`;
            const planted = { where, bytes: plantSecret(secret, encoding, offset) };
            const found = findSecretForms([planted], forms);
            const form = new RegExp(`: ${label} ${encoding}( \\(offset \\d\\))?$`);
            expect(
              found.some((name) => form.test(name)),
              `${where}: ${found}`,
            ).toBe(true);
          }
        }
      }
    });

    it('runs the tasks of a plan applied through the relay, with the password from a file', async () => {
      const executor = await startExecutor('exec-ok', {});

      const applied = await remote('plan', '--auto-apply');

      expect(applied.code).toBe(0);
      const rows = await engine?.query(`SELECT COUNT(*) AS n FROM ${schema}.orders`);
      expect(rows?.rows).toEqual([{ n: 7 }]);
      expect(await executor.stop('SIGTERM')).toBe(0);
    });

    it('fails a task whose engine cannot be reached, on the wrong port given by a variable', async () => {
      const wrongPort = { SLUICE__GATEWAYS__WAREHOUSE__CONNECTION__PORT: '1' };
      const checked = await checkExecutorProcess(executorOptions(wrongPort));
      keepOutput('executor --check', `${checked.stdout}\n${checked.stderr}`);
      expect(checked.code).not.toBe(0);
      expect(checked.stderr).toContain("gateway 'warehouse'");
      const executor = await startExecutor('exec-bad', wrongPort);
      await writeProject({ 'models/refunds.sql': refundsModel(schema) }, root);

      const applied = await remote('plan', '--auto-apply');

      expect(applied.code).not.toBe(0);
      expect(applied.stderr).toContain('127.0.0.1:1');
      expect(await executor.stop('SIGTERM')).toBe(0);
      expect(executor.logs.some((line) => line.includes('"status":"failed"'))).toBe(true);
      const failures = executor.logs.filter((line) => line.includes('"msg":"task failed:'));
      expect(failures.length).toBeGreaterThan(0);
      expect(failures.every((line) => line.includes('127.0.0.1:1'))).toBe(true);
    });

    it('keeps no form of the password or connection string where the Scheduler sees it', async () => {
      await scheduler?.stop();
      await recorder?.close();
      const state = await readState();
      const traffic = relayedBytes();

      expectStoredErrorsOfTheWrongPort(state);
      // The client secrets do cross, base64 in HTTP Basic headers: the search finds them there.
      expect(findSecretForms(traffic, secretForms('secret', clients.runner.secret))).not.toEqual(
        [],
      );
      const haystacks = [...state.rows, ...schedulerOutput(), ...traffic, ...executorOutput()];
      expect(findSecretForms([...haystacks, ...outputs], forms)).toEqual([]);
    });

    async function readState(): Promise<DecryptedState> {
      if (location === undefined) throw new Error('no state location');
      const store = await openStateStore({ location: location.location, keyRing });
      try {
        return await readDecryptedState(store);
      } finally {
        await store.close();
      }
    }

    /** Three attempts failed; each completion and each error line the Executor sent says why. */
    function expectStoredErrorsOfTheWrongPort(state: DecryptedState): void {
      const errors = storedTaskErrors(state);
      expect(errors.completionErrors).toHaveLength(3);
      expect(errors.logErrors).toHaveLength(3);
      for (const error of [...errors.completionErrors, ...errors.logErrors]) {
        expect(error).toContain("gateway 'warehouse' at 127.0.0.1:1/");
      }
      expect(state.decryptedPayloads).toBeGreaterThan(0);
      expect(state.undeclaredBinary).toEqual([]);
      expect(state.rows.some((row) => row.bytes.includes(`${schema}.orders`))).toBe(true);
    }

    function schedulerOutput(): Haystack[] {
      const logs = scheduler?.logs ?? [];
      expect(logs.some((line) => line.includes('/v1/tasks/'))).toBe(true);
      return [
        { where: 'scheduler stdout', bytes: Buffer.from(logs.join('\n')) },
        { where: 'scheduler stderr', bytes: Buffer.from(scheduler?.stderr() ?? '') },
      ];
    }

    /** Each relayed connection's bytes, in each direction, after checking that work crossed. */
    function relayedBytes(): Haystack[] {
      const connections = recorder?.connections ?? [];
      const received = connections.map((connection, index) => ({
        where: `bytes received on connection ${index + 1}`,
        bytes: Buffer.concat(connection.received),
      }));
      const sent = connections.map((connection, index) => ({
        where: `bytes sent on connection ${index + 1}`,
        bytes: Buffer.concat(connection.sent),
      }));
      const requests = Buffer.concat(received.map((haystack) => haystack.bytes)).toString('latin1');
      expect(requests).toContain('POST /v1/tasks/claim');
      expect(requests).toMatch(/POST \/v1\/tasks\/[^/]+\/complete/);
      expect(requests).toContain('POST /v1/environments/prod/plans');
      return [...received, ...sent];
    }

    function executorOutput(): Haystack[] {
      expect(executors).toHaveLength(2);
      return executors.flatMap((executor, index) => [
        { where: `executor ${index + 1} stdout`, bytes: Buffer.from(executor.logs.join('\n')) },
        { where: `executor ${index + 1} stderr`, bytes: Buffer.from(executor.stderr()) },
      ]);
    }
  },
);
