import { z } from 'zod';
import { logLineSchema } from './tasks-api.js';

/**
 * Reading task logs (readers of state): the lines of a task, of all its attempts or one, or of
 * every task of a run, filtered by a minimum level and a case-insensitive substring, oldest or
 * newest first, a page at a time. Lines come in the order the Scheduler received their batches.
 * A page may hold fewer lines than asked (one call reads a bounded number of batches); `next`
 * continues after it, and is null once nothing is left. The lines are the Executors' text, as
 * they sent it.
 */

export const logLevelSchema = logLineSchema.shape.level;

export type LogLevelName = z.infer<typeof logLevelSchema>;

/** The most lines one page may ask for. */
export const MAX_LOG_PAGE_LINES = 1000;

/** Where a page ended: a line's place in the reading order. */
export type LogCursor = {
  readonly receivedAtMs: number;
  readonly taskId: string;
  readonly epoch: number;
  readonly seq: number;
  readonly line: number;
};

const cursorPartsSchema = z.tuple([
  z.number().int().nonnegative(),
  z.string().min(1).max(200),
  z.number().int().nonnegative(),
  z.number().int().nonnegative(),
  z.number().int().nonnegative(),
]);

/** A cursor as the API hands it out: opaque, URL-safe text (base64url of a JSON array). */
export function encodeLogCursor(cursor: LogCursor): string {
  const parts = [cursor.receivedAtMs, cursor.taskId, cursor.epoch, cursor.seq, cursor.line];
  const bytes = new TextEncoder().encode(JSON.stringify(parts));
  const base64 = btoa(String.fromCharCode(...bytes));
  return base64.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** The cursor that `text` encodes; undefined when it is not one this API handed out. */
export function decodeLogCursor(text: string): LogCursor | undefined {
  let parts: unknown;
  try {
    const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    parts = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  const checked = cursorPartsSchema.safeParse(parts);
  if (!checked.success) return undefined;
  const [receivedAtMs, taskId, epoch, seq, line] = checked.data;
  return { receivedAtMs, taskId, epoch, seq, line };
}

const cursorSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,600}$/, { message: "must be a page's 'next' value as answered" })
  .transform((text, context) => {
    const cursor = decodeLogCursor(text);
    if (cursor === undefined) {
      context.addIssue({ code: 'custom', message: "must be a page's 'next' value as answered" });
      return z.NEVER;
    }
    return cursor;
  });

const commonQuery = {
  /** Lines at this level or a more severe one. */
  level: logLevelSchema.optional(),
  /** Lines whose message holds this text, whatever its case. */
  q: z.string().min(1).max(200).optional(),
  order: z.enum(['oldest', 'newest']).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LOG_PAGE_LINES).optional(),
  /** The `next` of the previous page. */
  after: cursorSchema.optional(),
};

/** `GET /v1/tasks/{id}/logs`: every attempt's lines, or one attempt's. */
export const taskLogsQuerySchema = z.strictObject({
  attempt: z.coerce.number().int().min(1).optional(),
  ...commonQuery,
});

/** `GET /v1/runs/{id}/logs`: the lines of every task of the run. */
export const runLogsQuerySchema = z.strictObject(commonQuery);

export type TaskLogsQuery = z.infer<typeof taskLogsQuerySchema>;

export const runPathSchema = z.strictObject({ id: z.string().min(1).max(200) });

/** One line found, with the task and attempt it belongs to. */
export const foundLogLineSchema = z.strictObject({
  task_id: z.string(),
  attempt: z.number().int().min(1),
  at_ms: z.number().int().nonnegative(),
  level: logLevelSchema,
  message: z.string(),
});

export type FoundLogLineInfo = z.infer<typeof foundLogLineSchema>;

export const logSearchResponseSchema = z.strictObject({
  lines: z.array(foundLogLineSchema),
  /** Pass as `after` for the next page; null when nothing is left to read. */
  next: z.string().nullable(),
});

export type LogSearchInfo = z.infer<typeof logSearchResponseSchema>;
