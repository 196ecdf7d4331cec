import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/core/errors.js';
import { createEngineAdapter } from '../../../src/engines/create-engine-adapter.js';
import type { EngineAdapter } from '../../../src/engines/engine-adapter.js';
import {
  DATA_VALUE_POLICY_VARIABLE,
  dataValuePolicyFromEnv,
} from '../../../src/executor/redaction/data-value-policy.js';
import {
  redactLogLine,
  redactTaskError,
} from '../../../src/executor/redaction/redact-task-output.js';
import type { TaskError } from '../../../src/protocol/task.js';

describe('the data value policy', () => {
  it('is redact when SLUICE_LOG_DATA_VALUES is unset or blank', () => {
    expect(dataValuePolicyFromEnv({})).toBe('redact');
    expect(dataValuePolicyFromEnv({ SLUICE_LOG_DATA_VALUES: '  ' })).toBe('redact');
  });

  it('reads redact and keep whatever their case and surrounding spaces', () => {
    expect(dataValuePolicyFromEnv({ SLUICE_LOG_DATA_VALUES: 'keep' })).toBe('keep');
    expect(dataValuePolicyFromEnv({ SLUICE_LOG_DATA_VALUES: ' KEEP ' })).toBe('keep');
    expect(dataValuePolicyFromEnv({ SLUICE_LOG_DATA_VALUES: 'Redact' })).toBe('redact');
  });

  it('rejects another value with a message naming the variable and the allowed values', () => {
    const failure = (() => {
      try {
        dataValuePolicyFromEnv({ [DATA_VALUE_POLICY_VARIABLE]: 'yes' });
      } catch (error) {
        return error;
      }
      return undefined;
    })();

    expect(failure).toBeInstanceOf(SluiceError);
    expect((failure as SluiceError).code).toBe('config_invalid');
    expect((failure as SluiceError).message).toContain("SLUICE_LOG_DATA_VALUES is 'yes'");
    expect((failure as SluiceError).message).toMatch(/'redact'.*'keep'/);
  });
});

describe('redacting what an Executor sends about a task', () => {
  const insert = "INSERT INTO p VALUES (42, 'secret@example.com')";
  let adapter: EngineAdapter;
  let taskError: TaskError;

  beforeAll(async () => {
    adapter = await createEngineAdapter({
      gateway: 'test',
      type: 'duckdb',
      settings: { database: ':memory:' },
      baseDir: process.cwd(),
    });
    await adapter.execute('CREATE TABLE p (id INTEGER PRIMARY KEY, email VARCHAR UNIQUE)');
    await adapter.execute(insert);
    const failure = await adapter.execute("INSERT INTO p VALUES (43, 'secret@example.com')").then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SluiceError);
    const { code, message, retryable } = failure as SluiceError;
    taskError = { code, message, isRetryable: retryable };
  });

  afterAll(() => adapter.close());

  it('redacts the message of a task error and keeps its code and retryability', () => {
    const redacted = redactTaskError(taskError, 'redact');

    expect(taskError.message).toContain('secret@example.com');
    expect(redacted).toEqual({
      code: 'engine_error',
      message:
        'DuckDB failed: Constraint Error: Duplicate key "email: [redacted]" violates unique constraint.',
      isRetryable: false,
    });
  });

  it('leaves a task error as it is under keep', () => {
    expect(redactTaskError(taskError, 'keep')).toEqual(taskError);
  });

  it('redacts an engine error in a log line, and leaves it under keep', () => {
    const line = `Statement failed: ${taskError.message}`;

    expect(redactLogLine(line, 'redact')).not.toContain('secret@example.com');
    expect(redactLogLine(line, 'redact')).toContain('Duplicate key "email: [redacted]"');
    expect(redactLogLine(line, 'keep')).toBe(line);
  });

  it("sends the model's SQL as it is, literals included", () => {
    const statements = [
      insert,
      "SELECT CAST('abc' AS INTEGER) AS n, 'Key (id)' AS label",
      "UPDATE p SET email = 'x@example.com' WHERE id = 42",
    ];

    for (const sql of statements) expect(redactLogLine(sql, 'redact')).toBe(sql);
  });
});
