/**
 * The logging interface every part of Sluice writes to. Services log JSON lines through pino (see
 * `cli/logging.ts`, which builds the logger and hands it down); the pure parts only see this type,
 * so they can be tested silently. Fields carry ids (`component`, `runId`, `taskId`, `executorId`),
 * never secrets, connection strings or bound parameters.
 */

export type LogFields = Readonly<Record<string, unknown>>;

export type Logger = {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
};

const ignore = () => {};

/** A logger that writes nothing. */
export const SILENT_LOGGER: Logger = {
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
  child: () => SILENT_LOGGER,
};
