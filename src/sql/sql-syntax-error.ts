import { SluiceError } from '../core/errors.js';

/**
 * SQL that the dialect's parser rejected. `offset` is the string index of the problem within the
 * statement that was parsed, when the parser reported one; the caller knows where the statement
 * sits in its file and turns the offset into a location.
 */
export class SqlSyntaxError extends SluiceError {
  readonly offset: number | undefined;

  constructor(message: string, offset: number | undefined, cause?: unknown) {
    super('sql_syntax', message, { cause });
    this.name = 'SqlSyntaxError';
    this.offset = offset;
  }
}
