/**
 * Turns DuckDB's failures into SluiceErrors. DuckDB reports every failure as a plain Error whose
 * message starts with its kind (`Catalog Error: ...`, `INTERRUPT Error: ...`); the code is chosen
 * from that text. Messages quote values that were bound as parameters (`Could not convert string
 * 'x' to INT32`), so they are scrubbed before they reach a message or a cause.
 */

import { SluiceError } from '../../core/errors.js';

/** What was running when DuckDB failed, for scrubbing and wording. */
export type DuckDbFailureContext = {
  readonly params?: readonly unknown[];
};

/** The message Sluice gives when a running statement was interrupted on request. */
export const QUERY_CANCELLED_MESSAGE = 'The query was cancelled; nothing it wrote was kept';

// Values this short are replaced only where DuckDB quotes them: bare, they match too much text.
const SHORTEST_BARE_SCRUB = 4;

/** The error of a statement or load stopped through its abort signal. */
export function cancelledError(): SluiceError {
  return new SluiceError('query_cancelled', QUERY_CANCELLED_MESSAGE);
}

/** A SluiceError for any failure of a DuckDB call; SluiceErrors pass through unchanged. */
export function toSluiceError(error: unknown, context: DuckDbFailureContext = {}): SluiceError {
  if (error instanceof SluiceError) return error;

  const engineMessage = scrubParameters(messageOf(error), context.params ?? []);
  const cause = new Error(engineMessage);
  cause.name = 'DuckDBError';

  if (engineMessage.startsWith('INTERRUPT Error')) return cancelledError();
  if (isMissingTable(engineMessage)) {
    return new SluiceError('table_missing', `DuckDB could not find a table: ${engineMessage}`, {
      cause,
    });
  }
  if (/^Catalog Error: Type with name .* does not exist/s.test(engineMessage)) {
    const message = `DuckDB does not know a column type: ${engineMessage}`;
    return new SluiceError('engine_type_rejected', message, { cause });
  }
  const retryable = isTransactionConflict(engineMessage);
  return new SluiceError('engine_error', `DuckDB failed: ${engineMessage}`, { cause, retryable });
}

/** A failure to open the database file, worded with the gateway and the path. */
export function openFailure(error: unknown, gateway: string, path: string): SluiceError {
  const engineMessage = messageOf(error);
  const cause = new Error(engineMessage);
  cause.name = 'DuckDBError';

  if (engineMessage.includes('Could not set lock on file')) {
    const message =
      `The DuckDB database '${path}' of gateway '${gateway}' is in use by another process, and a ` +
      'DuckDB file admits one writing process at a time; stop the other process (DuckDB names it: ' +
      `${engineMessage}) or point the gateway's 'database' setting at another file`;
    return new SluiceError('engine_unreachable', message, { cause, retryable: true });
  }
  const message =
    `Cannot open the DuckDB database '${path}' of gateway '${gateway}' (${engineMessage}); ` +
    "check the gateway's 'database' setting: it must be a file in a folder Sluice can write to";
  return new SluiceError('engine_unreachable', message, { cause });
}

/** Two gateways of one process that open the same file with different settings. */
export function settingsConflict(gateway: string, path: string): SluiceError {
  const message =
    `The DuckDB database '${path}' is already open in this process with other settings; give ` +
    `gateway '${gateway}' the same 'threads' and 'memory_limit' as the other gateways that use it`;
  return new SluiceError('engine_unreachable', message);
}

/**
 * Replaces the textual form of each bound parameter in an engine message with `$n`. Quoted
 * occurrences are always replaced; bare ones only for values of four characters or more.
 */
export function scrubParameters(message: string, params: readonly unknown[]): string {
  const shown = params
    .map((value, index) => ({ text: parameterText(value), placeholder: `$${index + 1}` }))
    .filter((entry): entry is { text: string; placeholder: string } => entry.text !== undefined)
    .sort((a, b) => b.text.length - a.text.length);

  let scrubbed = message;
  for (const { text, placeholder } of shown) {
    for (const quote of ["'", '"']) {
      const escaped = text.replaceAll(quote, quote + quote);
      scrubbed = scrubbed.replaceAll(
        `${quote}${escaped}${quote}`,
        `${quote}${placeholder}${quote}`,
      );
      scrubbed = scrubbed.replaceAll(`${quote}${text}${quote}`, `${quote}${placeholder}${quote}`);
    }
    if (text.length >= SHORTEST_BARE_SCRUB) scrubbed = scrubbed.replaceAll(text, placeholder);
  }
  return scrubbed;
}

function parameterText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length === 0 ? undefined : value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // DuckDB's CSV errors end in a long list of reader options and hints about type detection,
  // which Sluice turns off; the first paragraph names the line, the column and the value. Other
  // errors may end in a `LINE n:` excerpt of the SQL with a caret, which the caller places better.
  const withoutExcerpt = text.split(/\n\s*LINE \d+:/)[0] ?? text;
  const isCsvError = /^(Conversion|Invalid Input) Error: CSV Error/.test(text);
  return isCsvError
    ? (withoutExcerpt.split(/\n\n|\nPossible fixes:/)[0] ?? withoutExcerpt)
    : withoutExcerpt.trimEnd();
}

function isMissingTable(message: string): boolean {
  return /^Catalog Error: (Table|View|Table or view) with name .* does not exist/s.test(message);
}

function isTransactionConflict(message: string): boolean {
  return message.startsWith('TransactionContext Error') && /conflict/i.test(message);
}
