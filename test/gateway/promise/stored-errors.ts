import type { DecryptedState } from './decrypted-state.js';

/**
 * The task errors a Scheduler stored, read from a decrypted state: the error of each failed
 * attempt's completion (the outcome the Executor reported) and each error line of the task logs
 * the Executor sent.
 */

/** The error texts found, by where the Scheduler keeps them. */
export type StoredTaskErrors = {
  readonly completionErrors: readonly string[];
  readonly logErrors: readonly string[];
};

type AttemptRow = { readonly completion: string | null };
type Completion = {
  readonly report?: { readonly outcome?: { readonly error?: { readonly message?: string } } };
};
type LogRow = { readonly lines: string };
type LogLine = { readonly level: string; readonly message: string };

/** Reads both kinds of error text from `state`. */
export function storedTaskErrors(state: DecryptedState): StoredTaskErrors {
  const rowsOf = <T>(table: string) =>
    state.rows
      .filter((row) => row.table === table)
      .map((row) => JSON.parse(row.bytes.toString('utf8')) as T);

  const completionErrors = rowsOf<AttemptRow>('sluice_task_attempts').flatMap((row) => {
    const completion = JSON.parse(row.completion ?? '{}') as Completion;
    const message = completion.report?.outcome?.error?.message;
    return message === undefined ? [] : [message];
  });
  const logErrors = rowsOf<LogRow>('sluice_task_logs').flatMap((row) =>
    (JSON.parse(row.lines) as LogLine[])
      .filter((line) => line.level === 'error')
      .map((line) => line.message),
  );
  return { completionErrors, logErrors };
}
