/**
 * Parsers report positions in their own units: libpg-query and DuckDB give node locations as UTF-8
 * byte offsets and error positions as code point counts. Sluice works with JavaScript string
 * indices (UTF-16 code units), so every position is converted here.
 */

/** Converts parser positions in one text into JavaScript string indices. */
export type OffsetConverter = {
  /** The string index of a UTF-8 byte offset. */
  fromByte(byteOffset: number): number;
  /** The string index of a code point offset (a count of Unicode characters). */
  fromCodePoint(codePointOffset: number): number;
};

const NON_ASCII = /[^\p{ASCII}]/u;

const IDENTITY: OffsetConverter = {
  fromByte: (byteOffset) => byteOffset,
  fromCodePoint: (codePointOffset) => codePointOffset,
};

/** A converter for `text`; for ASCII text every unit is the same and conversion is free. */
export function createOffsetConverter(text: string): OffsetConverter {
  if (!NON_ASCII.test(text)) return IDENTITY;
  return {
    fromByte: (byteOffset) => scanTo(text, byteOffset, utf8Length),
    fromCodePoint: (codePointOffset) => scanTo(text, codePointOffset, () => 1),
  };
}

/** Walks the text until `target` units have passed; a pair of surrogates is one character. */
function scanTo(text: string, target: number, unitsOf: (codePoint: number) => number): number {
  let units = 0;
  let index = 0;
  while (index < text.length && units < target) {
    const codePoint = text.codePointAt(index) ?? 0;
    units += unitsOf(codePoint);
    index += codePoint > 0xffff ? 2 : 1;
  }
  return index;
}

function utf8Length(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  return codePoint > 0xffff ? 4 : 3;
}
