import { SluiceError } from '../../core/errors.js';
import { ChunkQueue } from './chunk-queue.js';

/**
 * A streaming parser of PostgreSQL's binary COPY format, the output of
 * `COPY (SELECT ...) TO STDOUT (FORMAT binary)`:
 *
 *   signature (11) | flags (4) | extension length (4) | extension
 *   per row: field count (int16), then per field: length (int32, -1 for NULL) | bytes
 *   trailer: field count -1
 *
 * Chunks arrive as the server sends them (tens of kilobytes), so most rows lie whole in one
 * chunk: those are decoded where they lie, in one pass. A row that spans chunks goes through a
 * small state machine that reads it field by field as its bytes arrive, and copies only a field
 * that itself spans chunks. No byte is read twice.
 */

/**
 * Turns one field's bytes, `buffer[start, end)`, into a value. The buffer is a chunk of the
 * stream that must not change, so a decoder may keep a view of it.
 */
export type FieldDecoder = (buffer: Buffer, start: number, end: number) => unknown;

/** One field of each row: its name in the row object and how to decode it. */
export type CopyField = { readonly name: string; readonly decode: FieldDecoder };

type Stage = 'header' | 'extension' | 'row' | 'field length' | 'field' | 'ended';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const HEADER_BYTES = SIGNATURE.length + 8;
const TRAILER = -1;
const NULL_LENGTH = -1;

/** Parses the rows of one COPY; feed it every chunk with `push`, then call `finish`. */
export class CopyBinaryParser {
  readonly #fields: readonly CopyField[];
  readonly #queue = new ChunkQueue();
  #stage: Stage = 'header';
  /** How many bytes the current stage reads: the extension's or the field's length. */
  #stageBytes = HEADER_BYTES;
  #row: Record<string, unknown> = {};
  #fieldIndex = 0;

  constructor(fields: readonly CopyField[]) {
    this.#fields = fields;
  }

  /** Takes the next chunk and returns the rows it completes, in order. */
  push(chunk: Buffer): Record<string, unknown>[] {
    this.#queue.push(chunk);
    const rows: Record<string, unknown>[] = [];
    while (this.#stage !== 'ended') {
      if (this.#stage === 'row' && this.#readWholeRows(rows)) continue;
      if (this.#queue.size < this.#stageBytes) break;
      this.#step(rows);
    }
    return rows;
  }

  /** Checks that the stream ended where the format says it ends. */
  finish(): void {
    if (this.#stage !== 'ended' || this.#queue.size > 0) {
      throw malformed('it ended before its trailer, or went on after it');
    }
  }

  /**
   * Decodes the rows that lie whole in the first waiting chunk, and the trailer if it follows.
   * Returns whether it read anything; a row that goes on in the next chunk is left in place.
   */
  #readWholeRows(rows: Record<string, unknown>[]): boolean {
    const buffer = this.#queue.first;
    if (buffer === undefined) return false;

    const start = this.#queue.offset;
    let offset = start;
    for (;;) {
      const end = this.#wholeRowEnd(buffer, offset);
      if (end === undefined) break;
      if (end === offset + 2) {
        this.#expect('ended', 0);
        offset = end;
        break;
      }
      rows.push(this.#decodeRow(buffer, offset + 2));
      offset = end;
    }

    this.#queue.skip(offset - start);
    return offset > start;
  }

  /** Where the row (or trailer) at `offset` ends, if all of it is in `buffer`. */
  #wholeRowEnd(buffer: Buffer, offset: number): number | undefined {
    if (buffer.length - offset < 2) return undefined;
    const fieldCount = buffer.readInt16BE(offset);
    if (fieldCount === TRAILER) return offset + 2;
    this.#checkFieldCount(fieldCount);

    let position = offset + 2;
    for (let index = 0; index < fieldCount; index++) {
      if (buffer.length - position < 4) return undefined;
      const length = buffer.readInt32BE(position);
      position += 4;
      if (length === NULL_LENGTH) continue;
      if (length < 0) throw malformed(`a field has the length ${length}`);
      if (buffer.length - position < length) return undefined;
      position += length;
    }
    return position;
  }

  /** Decodes a row whose fields start at `offset`, once `#wholeRowEnd` has checked it. */
  #decodeRow(buffer: Buffer, offset: number): Record<string, unknown> {
    const row: Record<string, unknown> = {};
    let position = offset;
    for (const field of this.#fields) {
      const length = buffer.readInt32BE(position);
      position += 4;
      if (length === NULL_LENGTH) {
        row[field.name] = null;
        continue;
      }
      row[field.name] = field.decode(buffer, position, position + length);
      position += length;
    }
    return row;
  }

  /** Reads what the current stage needs; the caller has checked that enough bytes wait. */
  #step(rows: Record<string, unknown>[]): void {
    const stage = this.#stage;
    if (stage === 'header') this.#readHeader();
    else if (stage === 'extension') this.#skipExtension();
    else if (stage === 'row') this.#startRow(this.#queue.readInt16());
    else if (stage === 'field length') this.#readFieldLength(rows, this.#queue.readInt32());
    else if (stage === 'field') this.#setField(rows, this.#decodeField());
  }

  #readHeader(): void {
    const header = this.#queue.take(HEADER_BYTES);
    if (header.compare(SIGNATURE, 0, SIGNATURE.length, 0, SIGNATURE.length) !== 0) {
      throw malformed('its signature is not the binary COPY signature');
    }
    this.#expect('extension', header.readUInt32BE(SIGNATURE.length + 4));
  }

  #skipExtension(): void {
    this.#queue.skip(this.#stageBytes);
    this.#expect('row', 2);
  }

  #startRow(fieldCount: number): void {
    if (fieldCount === TRAILER) {
      this.#expect('ended', 0);
      return;
    }
    this.#checkFieldCount(fieldCount);
    this.#row = {};
    this.#fieldIndex = 0;
    this.#expect('field length', 4);
  }

  #checkFieldCount(fieldCount: number): void {
    if (fieldCount === this.#fields.length) return;
    throw malformed(`a row has ${fieldCount} fields instead of ${this.#fields.length}`);
  }

  #readFieldLength(rows: Record<string, unknown>[], length: number): void {
    if (length === NULL_LENGTH) this.#setField(rows, null);
    else if (length < 0) throw malformed(`a field has the length ${length}`);
    else this.#expect('field', length);
  }

  #decodeField(): unknown {
    const field = this.#fields[this.#fieldIndex] as CopyField;
    const bytes = this.#queue.take(this.#stageBytes);
    return field.decode(bytes, 0, bytes.length);
  }

  /** Stores the current field's value, and the row once it is whole. */
  #setField(rows: Record<string, unknown>[], value: unknown): void {
    this.#row[(this.#fields[this.#fieldIndex] as CopyField).name] = value;
    this.#fieldIndex += 1;
    if (this.#fieldIndex < this.#fields.length) {
      this.#expect('field length', 4);
      return;
    }
    rows.push(this.#row);
    this.#expect('row', 2);
  }

  #expect(stage: Stage, bytes: number): void {
    this.#stage = stage;
    this.#stageBytes = bytes;
  }
}

function malformed(reason: string): SluiceError {
  return new SluiceError(
    'state_error',
    `The PostgreSQL state database sent a binary COPY stream Sluice cannot read: ${reason}; ` +
      'check that the state URL points at PostgreSQL and not at a proxy that rewrites COPY',
  );
}
