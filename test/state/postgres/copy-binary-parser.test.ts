import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/core/errors.js';
import {
  CopyBinaryParser,
  type CopyField,
} from '../../../src/state/postgres/copy-binary-parser.js';

/** A row of the test format: a text, a nullable integer, and bytes. */
type Row = { name: string; count: number | null; body: Buffer };

const FIELDS: readonly CopyField[] = [
  { name: 'name', decode: (buffer, start, end) => buffer.toString('utf8', start, end) },
  { name: 'count', decode: (buffer, start) => buffer.readInt32BE(start) },
  { name: 'body', decode: (buffer, start, end) => Buffer.from(buffer.subarray(start, end)) },
];

/** Encodes rows as `COPY ... TO STDOUT (FORMAT binary)` would, with a header extension. */
function encodeCopy(rows: readonly Row[], extension = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(extension.length, 4);
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), header, extension];
  for (const row of rows) {
    parts.push(int16(3), field(Buffer.from(row.name, 'utf8')));
    parts.push(row.count === null ? int32(-1) : field(int32(row.count)), field(row.body));
  }
  parts.push(int16(-1));
  return Buffer.concat(parts);
}

function field(bytes: Buffer): Buffer {
  return Buffer.concat([int32(bytes.length), bytes]);
}

function int16(value: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeInt16BE(value);
  return bytes;
}

function int32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(value);
  return bytes;
}

/** Splits bytes at the given cut points (taken modulo the length), in order. */
function split(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

function parseAll(chunks: readonly Buffer[]): Record<string, unknown>[] {
  const parser = new CopyBinaryParser(FIELDS);
  const rows = chunks.flatMap((chunk) => parser.push(chunk));
  parser.finish();
  return rows;
}

const rowArbitrary = fc.record({
  name: fc.string({ unit: 'grapheme', maxLength: 20 }),
  count: fc.option(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { nil: null }),
  body: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
});

describe('binary COPY parser', () => {
  it('reads the same rows however the stream is cut into chunks', () => {
    fc.assert(
      fc.property(
        fc.array(rowArbitrary, { maxLength: 30 }),
        fc.uint8Array({ maxLength: 4 }).map((bytes) => Buffer.from(bytes)),
        fc.array(fc.nat(), { maxLength: 60 }),
        (rows, extension, cuts) => {
          const stream = encodeCopy(rows, extension);

          expect(parseAll(split(stream, cuts))).toEqual(rows);
        },
      ),
    );
  });

  it('reads a stream delivered one byte at a time', () => {
    const rows = [
      { name: 'ünïcödé', count: 7, body: Buffer.from([0, 255, 128]) },
      { name: '', count: null, body: Buffer.alloc(0) },
    ];
    const stream = encodeCopy(rows);
    const bytes = [...stream].map((byte) => Buffer.from([byte]));

    expect(parseAll(bytes)).toEqual(rows);
  });

  it('refuses a stream that does not start with the binary COPY signature', () => {
    const stream = Buffer.from(encodeCopy([]));
    stream[0] = 0x51;

    expect(() => parseAll([stream])).toThrow(SluiceError);
    expect(() => parseAll([stream])).toThrow('signature');
  });

  it('refuses a stream that ends before its trailer', () => {
    const stream = encodeCopy([{ name: 'a', count: 1, body: Buffer.from('xyz') }]);

    expect(() => parseAll([stream.subarray(0, stream.length - 3)])).toThrow('before its trailer');
  });

  it('refuses rows with another number of fields than asked for', () => {
    const stream = encodeCopy([{ name: 'a', count: 1, body: Buffer.from('xyz') }]);
    const parser = new CopyBinaryParser(FIELDS.slice(0, 2));

    expect(() => parser.push(stream)).toThrow('a row has 3 fields instead of 2');
  });
});
