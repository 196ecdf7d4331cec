import {
  encodeLogCursor,
  type FoundLogLineInfo,
  type LogCursor,
  type LogLevelName,
  type LogSearchInfo,
} from '../../protocol/logs-api.js';
import type { StateStore } from '../../state/state-store.js';
import { taskNotFound } from '../../state/tasks/task-holder.js';
import { type FoundLogLine, searchTaskLogs } from '../../state/tasks/task-log-search.js';
import { HttpProblem } from '../http/api-errors.js';

/**
 * A log search in the API's terms, shared by the log routes and the CLI working on the state
 * store, so that both answer the same: the query as the API takes it, the page as it answers.
 */

/** Lines per page when the caller names no limit. */
export const DEFAULT_LOG_PAGE_LINES = 100;

/** Whose lines: one task's or one run's. */
export type LogOwner = { readonly taskId: string } | { readonly runId: string };

/** The API's query, with the cursor decoded. */
export type LogQuery = {
  readonly attempt?: number | undefined;
  readonly level?: LogLevelName | undefined;
  readonly q?: string | undefined;
  readonly order?: 'oldest' | 'newest' | undefined;
  readonly limit?: number | undefined;
  readonly after?: LogCursor | undefined;
};

/** One page of the lines the query selects; 404 when the task or run does not exist. */
export async function searchLogsInfo(
  store: StateStore,
  owner: LogOwner,
  query: LogQuery,
): Promise<LogSearchInfo> {
  const scope =
    'runId' in owner
      ? owner
      : {
          taskId: owner.taskId,
          ...(query.attempt === undefined ? {} : { attempt: query.attempt }),
        };
  const page = await searchTaskLogs(store, {
    scope,
    limit: query.limit ?? DEFAULT_LOG_PAGE_LINES,
    isNewestFirst: query.order === 'newest',
    ...(query.level === undefined ? {} : { minLevel: query.level }),
    ...(query.q === undefined ? {} : { text: query.q }),
    ...(query.after === undefined ? {} : { after: query.after }),
  });
  if (page === undefined) throw missingOwner(owner);
  return {
    lines: page.lines.map(lineInfo),
    next: page.next === undefined ? null : encodeLogCursor(page.next),
  };
}

function lineInfo(line: FoundLogLine): FoundLogLineInfo {
  return {
    task_id: line.taskId,
    attempt: line.attempt,
    at_ms: line.atMs,
    level: line.level,
    message: line.message,
  };
}

function missingOwner(owner: LogOwner): Error {
  if ('taskId' in owner) return taskNotFound(owner.taskId);
  return new HttpProblem(
    404,
    'usage',
    `No run '${owner.runId}' is recorded and no task belongs to it; check the run id`,
  );
}
