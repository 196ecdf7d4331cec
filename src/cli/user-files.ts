import { readFile } from 'node:fs/promises';
import { SluiceError } from '../core/errors.js';

/** Reads a file the user named on the command line; the error names it and the reason. */
export async function readUserFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'unreadable';
    throw new SluiceError(
      'usage',
      `Could not read the ${what} file '${path}' (${code}); check the path and that this user ` +
        'may read it',
    );
  }
}
