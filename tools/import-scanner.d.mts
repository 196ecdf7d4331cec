/** How a specifier was found: a static import, a re-export, `import()` or `require()`. */
export type ImportKind = 'import' | 'export' | 'dynamic' | 'require';

/** One module specifier found in a source file, with the 1-based line of the specifier. */
export type FoundImport = {
  readonly specifier: string;
  readonly line: number;
  readonly kind: ImportKind;
};

/** One token of the import scanner; comments produce none. */
export type ScannedToken =
  | { readonly type: 'word' | 'punct' | 'string'; readonly value: string; readonly offset: number }
  | { readonly type: 'template' | 'regex'; readonly offset: number };

/** Lists the module specifiers a source file imports, re-exports, loads or requires. */
export function findImports(source: string): FoundImport[];

/** Splits source into tokens, dropping comments and keeping literals whole. */
export function tokenize(source: string): ScannedToken[];
