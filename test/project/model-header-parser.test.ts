import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import {
  type HeaderItem,
  type HeaderNode,
  parseModelHeader,
} from '../../src/project/model-header-parser.js';

/** A compact view of a node: its type and value, lists as nested arrays of items. */
function shape(node: HeaderNode): unknown {
  switch (node.type) {
    case 'name':
      return node.parts.map((part) => (part.quoted ? `"${part.text}"` : part.text)).join('.');
    case 'list':
      return { [node.bracket]: node.items.map(itemShape) };
    case 'string':
      return { string: node.value };
    case 'number':
    case 'boolean':
      return node.value;
    case 'null':
      return null;
    case 'symbol':
      return { symbol: node.text };
  }
}

function itemShape(item: HeaderItem): unknown[] {
  return item.nodes.map(shape);
}

function headerItems(text: string): unknown[][] {
  return parseModelHeader(text, 'models/x.sql').items.map(itemShape);
}

function headerError(text: string): SluiceError {
  try {
    parseModelHeader(text, 'models/x.sql');
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error('expected the header to be rejected');
}

describe('parseModelHeader', () => {
  it('reads each item as a key followed by its value nodes', () => {
    const items = headerItems(`MODEL (
      name shop.orders,
      kind INCREMENTAL_BY_TIME_RANGE (time_column order_date, batch_size 30),
      cron '@daily'
    );`);

    expect(items).toEqual([
      ['name', 'shop.orders'],
      [
        'kind',
        'INCREMENTAL_BY_TIME_RANGE',
        {
          '(': [
            ['time_column', 'order_date'],
            ['batch_size', 30],
          ],
        },
      ],
      ['cron', { string: '@daily' }],
    ]);
  });

  it('reads strings with doubled quotes, numbers, booleans and null', () => {
    const items = headerItems(
      "MODEL (description 'it''s', lookback -2, ratio 1.5, enabled FALSE, owner NULL, big 1_000)",
    );

    expect(items).toEqual([
      ['description', { string: "it's" }],
      ['lookback', -2],
      ['ratio', 1.5],
      ['enabled', false],
      ['owner', null],
      ['big', 1000],
    ]);
  });

  it('reads escaped and dollar-quoted strings', () => {
    const items = headerItems("MODEL (a E'x\\ny', b $$it's$$, c $tag$z$tag$)");

    expect(items).toEqual([
      ['a', { string: 'x\ny' }],
      ['b', { string: "it's" }],
      ['c', { string: 'z' }],
    ]);
  });

  it('keeps quoted name parts apart from unquoted ones', () => {
    expect(headerItems('MODEL (name "My Schema".Orders)')).toEqual([
      ['name', '"My Schema".Orders'],
    ]);
  });

  it('reads both list syntaxes with trailing commas, also in the header itself', () => {
    const items = headerItems('MODEL (tags [a, b,], grain (x, y,), depends_on [], name a.b,)');

    expect(items).toEqual([
      ['tags', { '[': [['a'], ['b']] }],
      ['grain', { '(': [['x'], ['y']] }],
      ['depends_on', { '[': [] }],
      ['name', 'a.b'],
    ]);
  });

  it('keeps operators of named arguments as symbols', () => {
    const items = headerItems(
      "MODEL (audits (not_null(columns := (a, b)), accepted_values(column = status, is_in = ('a'))))",
    );

    expect(items).toEqual([
      [
        'audits',
        {
          '(': [
            ['not_null', { '(': [['columns', { symbol: ':=' }, { '(': [['a'], ['b']] }]] }],
            [
              'accepted_values',
              {
                '(': [
                  ['column', { symbol: '=' }, 'status'],
                  ['is_in', { symbol: '=' }, { '(': [[{ string: 'a' }]] }],
                ],
              },
            ],
          ],
        },
      ],
    ]);
  });

  it('ignores comments anywhere in the header', () => {
    const items = headerItems(`-- leading comment
      MODEL ( /* before */ name shop.orders, -- after name
        cron /* inside */ '@daily' -- end
      );`);

    expect(items).toEqual([
      ['name', 'shop.orders'],
      ['cron', { string: '@daily' }],
    ]);
  });

  it('records offsets for every node and where the header ends', () => {
    const text = "MODEL (name a.b, cron '@daily');\nSELECT 1";
    const header = parseModelHeader(text, 'models/x.sql');
    const cron = header.items[1]?.nodes[1];

    expect(text.slice(cron?.start, cron?.end)).toBe("'@daily'");
    expect(text.slice(header.end)).toBe('\nSELECT 1');
    expect(header.start).toBe(0);
  });

  it('ends the header at its closing parenthesis when no semicolon follows', () => {
    const text = 'model (name a.b) SELECT 1';

    expect(text.slice(parseModelHeader(text, 'models/x.sql').end)).toBe(' SELECT 1');
  });

  it('asks for a MODEL header when a file starts with something else', () => {
    const error = headerError('\n\nSELECT 1');

    expect(error.code).toBe('model_header_invalid');
    expect(error.message).toContain(
      'a model file must start with `MODEL (name schema.table, ...)`',
    );
    expect(error.location).toEqual({ file: 'models/x.sql', line: 3, column: 1 });
  });

  it('asks for a parenthesis after MODEL', () => {
    const error = headerError('MODEL name a.b');

    expect(error.message).toContain("Expected '(' after MODEL");
    expect(error.location).toEqual({ file: 'models/x.sql', line: 1, column: 7 });
  });

  it('reports an unclosed parenthesis at the place it was opened', () => {
    const error = headerError('MODEL (\n  name a.b,\n  kind FULL (\n);\nSELECT 1');

    expect(error.code).toBe('model_header_invalid');
    expect(error.message).toBe(
      "The '(' at line 1 of the MODEL header in 'models/x.sql' is not closed before the ';' at line 4; add the missing ')'",
    );
    expect(error.location).toEqual({ file: 'models/x.sql', line: 1, column: 7 });
  });

  it('reports a header that runs to the end of the file', () => {
    const error = headerError('MODEL (name a.b, tags [a, b');

    expect(error.message).toContain("The '[' at line 1");
    expect(error.message).toContain('before the end of the file');
    expect(error.location?.column).toBe(23);
  });

  it('reports a closing bracket that does not match', () => {
    const error = headerError('MODEL (tags [a, b), name a.b)');

    expect(error.message).toContain("Expected ']' to close the '['");
    expect(error.location?.column).toBe(18);
  });

  it('reports a missing value between commas', () => {
    const error = headerError('MODEL (name a.b,, cron x)');

    expect(error.message).toContain("Missing value before ','");
    expect(error.location?.column).toBe(17);
  });

  it('reports unterminated strings and quoted names', () => {
    expect(headerError("MODEL (cron '@daily)").message).toContain('Unterminated string');
    expect(headerError('MODEL (name "shop.orders)').message).toContain('Unterminated quoted name');
  });

  it('reports a dot that is not followed by a name', () => {
    const error = headerError('MODEL (name shop., cron x)');

    expect(error.message).toContain("Expected a name after '.'");
    expect(error.location?.column).toBe(17);
  });
});
