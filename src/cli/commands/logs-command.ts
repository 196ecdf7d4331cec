import { SluiceError } from '../../core/errors.js';
import {
  decodeLogCursor,
  type FoundLogLineInfo,
  type LogCursor,
  type LogLevelName,
  MAX_LOG_PAGE_LINES,
} from '../../protocol/logs-api.js';
import type { LogOwner, LogQuery } from '../../scheduler/logs/log-search-info.js';
import { type LogCostAccess, withLogCostAccess } from '../log-cost-access.js';
import type { CommandContext } from '../output.js';
import type { StateCliOptions } from '../state-context.js';

/**
 * `sluice logs (--task ID | --run ID)`: the log lines Executors sent for a task (every attempt,
 * or one) or for every task of a run, filtered by a minimum level and a case-insensitive text,
 * oldest first (or newest first), through the API when SLUICE_URL is set, else from the state
 * store. Pages are read until --limit lines are printed or nothing is left; when more may follow,
 * standard error says how to continue.
 */

export type LogsOptions = StateCliOptions & {
  readonly task?: string;
  readonly run?: string;
  readonly level?: string;
  readonly grep?: string;
  readonly attempt?: string;
  readonly limit?: string;
  readonly after?: string;
  readonly newest?: boolean;
  readonly format?: string;
};

/** Lines printed when --limit is not given. */
const DEFAULT_LIMIT = 1000;
const MAX_LIMIT = 1_000_000;

type LogsRequest = {
  readonly owner: LogOwner;
  readonly query: LogQuery;
  readonly limit: number;
  readonly isJson: boolean;
};

/** Runs `sluice logs`. */
export async function logsCommand(context: CommandContext, options: LogsOptions): Promise<void> {
  const request = parseRequest(options);

  const found = await withLogCostAccess(context, options, (access) => readLines(access, request));

  const out = context.output.stdout;
  if (request.isJson) {
    out.write(`${JSON.stringify({ lines: found.lines, next: found.next }, null, 2)}\n`);
    return;
  }
  for (const line of found.lines) out.write(`${lineText(line)}\n`);
  if (found.lines.length === 0) context.output.stderr.write('No log lines matched.\n');
  if (found.next !== null) {
    context.output.stderr.write(`More lines may follow: add --after ${found.next}\n`);
  }
}

/** Pages through the API's answers until `limit` lines are found or nothing is left. */
async function readLines(access: LogCostAccess, request: LogsRequest) {
  const lines: FoundLogLineInfo[] = [];
  let after = request.query.after;
  let next: string | null = null;
  do {
    const limit = Math.min(request.limit - lines.length, MAX_LOG_PAGE_LINES);
    const page = await access.searchLogs(request.owner, { ...request.query, limit, after });
    lines.push(...page.lines);
    next = page.next;
    after = next === null ? undefined : answeredCursor(next);
  } while (next !== null && lines.length < request.limit);
  return { lines, next };
}

function answeredCursor(next: string): LogCursor {
  const cursor = decodeLogCursor(next);
  if (cursor !== undefined) return cursor;
  throw new SluiceError(
    'internal',
    "The Scheduler answered a page's 'next' that this CLI cannot read; use a CLI of its release",
  );
}

function parseRequest(options: LogsOptions): LogsRequest {
  const owner = ownerOf(options);
  if (options.attempt !== undefined && 'runId' in owner) {
    throw new SluiceError(
      'usage',
      '--attempt picks one attempt of a task; use it with --task, not --run',
    );
  }
  const limit = options.limit === undefined ? DEFAULT_LIMIT : whole(options.limit, '--limit', 1);
  if (limit > MAX_LIMIT) {
    throw new SluiceError('usage', `--limit ${limit} is too large; print at most ${MAX_LIMIT}`);
  }
  const query: LogQuery = {
    attempt: options.attempt === undefined ? undefined : whole(options.attempt, '--attempt', 1),
    level: levelOf(options.level),
    q: grepOf(options.grep),
    order: options.newest === true ? 'newest' : 'oldest',
    after: options.after === undefined ? undefined : cursorOf(options.after),
  };
  return { owner, query, limit, isJson: options.format === 'json' };
}

function ownerOf(options: LogsOptions): LogOwner {
  if ((options.task === undefined) === (options.run === undefined)) {
    throw new SluiceError(
      'usage',
      'Name whose logs to read: --task ID for one task, or --run ID for every task of a run',
    );
  }
  return options.task !== undefined ? { taskId: options.task } : { runId: options.run ?? '' };
}

const LEVELS: readonly LogLevelName[] = ['debug', 'info', 'warn', 'error'];

function levelOf(text: string | undefined): LogLevelName | undefined {
  if (text === undefined) return undefined;
  const level = LEVELS.find((known) => known === text.toLowerCase());
  if (level !== undefined) return level;
  throw new SluiceError(
    'usage',
    `--level '${text}' is not a log level; use one of ${LEVELS.join(', ')}`,
  );
}

function grepOf(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (text.length >= 1 && text.length <= 200) return text;
  throw new SluiceError('usage', '--grep takes 1 to 200 characters of text to look for');
}

function cursorOf(text: string): LogCursor {
  const cursor = /^[A-Za-z0-9_-]{1,600}$/.test(text) ? decodeLogCursor(text) : undefined;
  if (cursor !== undefined) return cursor;
  throw new SluiceError(
    'usage',
    `--after '${text}' is not a position in the logs; pass the value a previous 'sluice logs' ` +
      'printed after --after',
  );
}

function whole(text: string, option: string, min: number): number {
  const value = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (value >= min) return value;
  throw new SluiceError('usage', `${option} '${text}' is not a whole number of at least ${min}`);
}

/**
 * One line for a person: time, level, task and attempt, message. Control characters the
 * Executor sent are shown escaped, so that log text cannot drive the terminal; a message of
 * several lines continues on indented lines.
 */
export function lineText(line: FoundLogLineInfo): string {
  const at = new Date(line.at_ms).toISOString();
  const level = line.level.toUpperCase().padEnd(5);
  const message = escapeControls(line.message).split('\n').join('\n    ');
  return `${at}  ${level}  ${line.task_id}#${line.attempt}  ${message}`;
}

function escapeControls(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters escaped
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (char) => {
    return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
