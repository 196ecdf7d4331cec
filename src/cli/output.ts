import { SluiceError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/** Where the CLI writes; tests pass their own streams. */
export type Output = {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
};

/** What every command receives: the project folder, where to print, and the logger. */
export type CommandContext = {
  readonly projectDir: string;
  readonly output: Output;
  readonly logger: Logger;
  /** Sets the exit code of a command that succeeds but has something to say by it. */
  readonly setExitCode?: (code: number) => void;
};

/** Colour only on a terminal and never when NO_COLOR is set. */
function useColour(stream: NodeJS.WritableStream): boolean {
  const isTerminal = (stream as { isTTY?: boolean }).isTTY === true;
  return isTerminal && process.env.NO_COLOR === undefined;
}

function red(stream: NodeJS.WritableStream, text: string): string {
  return useColour(stream) ? `\u001b[31m${text}\u001b[39m` : text;
}

/**
 * Prints an error for a person and returns the exit code: 1 for anything the user can fix, 2 for
 * a fault in Sluice itself. Stack traces only with --debug.
 */
export function reportError(output: Output, error: unknown, isDebug: boolean): number {
  const { stderr } = output;
  if (error instanceof SluiceError) {
    for (const line of error.describe().split('\n')) {
      stderr.write(`${red(stderr, 'error')}: ${line}\n`);
    }
    if (isDebug && error.stack !== undefined) stderr.write(`${error.stack}\n`);
    return 1;
  }

  const message = error instanceof Error ? error.message : String(error);
  stderr.write(`${red(stderr, 'internal error')}: ${message}\n`);
  if (isDebug && error instanceof Error && error.stack !== undefined) {
    stderr.write(`${error.stack}\n`);
  } else {
    stderr.write('Run the command again with --debug for details.\n');
  }
  return 2;
}
