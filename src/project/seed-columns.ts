import type { ColumnDefinition, ModelDefinition } from '../core/model.js';
import { capitalise } from './header-values.js';

/** A column of a seed's table, in the order of the file's header; `type` when declared. */
export type SeedColumn = { readonly name: string; readonly type: string | undefined };

/** The seed's columns, or a sentence saying why the header and the declaration disagree. */
export type SeedColumnsResult =
  | { readonly isValid: true; readonly columns: readonly SeedColumn[] }
  | { readonly isValid: false; readonly problem: string };

/**
 * Matches a seed file's header to the model's `columns (...)`. Header names are trimmed and
 * compared without regard to case. When the model declares columns, the header must name exactly
 * those (in any order); each table column then takes the declared name and type. Otherwise each
 * header name, lower-cased like an unquoted identifier, is a column whose type is inferred later.
 * `shownFile` is how messages name the file.
 */
export function matchSeedColumns(
  model: ModelDefinition,
  header: readonly string[],
  shownFile: string,
): SeedColumnsResult {
  const names = header.map((field) => field.trim().toLowerCase());
  const subject = `seed file '${shownFile}' of model '${model.name}'`;
  if (names.every((name) => name === '')) {
    return invalid(`${capitalise(subject)} has no header row; add one naming its columns`);
  }
  const unnamed = names.indexOf('');
  if (unnamed >= 0) {
    return invalid(`Column ${unnamed + 1} of the header of ${subject} has no name; name it`);
  }
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated !== undefined) {
    return invalid(`The header of ${subject} names column '${repeated}' twice; rename one`);
  }
  if (model.columns.length === 0) {
    return { isValid: true, columns: names.map((name) => ({ name, type: undefined })) };
  }
  return matchDeclared(model, names, shownFile);
}

function matchDeclared(
  model: ModelDefinition,
  names: readonly string[],
  shownFile: string,
): SeedColumnsResult {
  const declared = new Map<string, ColumnDefinition>();
  for (const column of model.columns) declared.set(column.name.toLowerCase(), column);

  const missing = model.columns.filter((column) => !names.includes(column.name.toLowerCase()));
  const extra = names.filter((name) => !declared.has(name));
  if (missing.length > 0 || extra.length > 0) {
    return invalid(mismatchMessage(model, names, shownFile, missing, extra));
  }
  const columns = names.map((name) => {
    const column = declared.get(name);
    return { name: column?.name ?? name, type: column?.type };
  });
  return { isValid: true, columns };
}

function mismatchMessage(
  model: ModelDefinition,
  names: readonly string[],
  shownFile: string,
  missing: readonly ColumnDefinition[],
  extra: readonly string[],
): string {
  const sentences: string[] = [];
  if (missing.length > 0) {
    sentences.push(
      `Model '${model.name}' declares ${columnList(missing.map((column) => column.name))} ` +
        `that seed file '${shownFile}' lacks (its header has ${names.join(', ')})`,
    );
  }
  if (extra.length > 0) {
    const declared = model.columns.map((column) => column.name).join(', ');
    sentences.push(
      `${missing.length > 0 ? 'It' : `Seed file '${shownFile}'`} has ` +
        `${columnList(extra)} that model '${model.name}' does not declare (it declares ${declared})`,
    );
  }
  return (
    `${sentences.join('. ')}. Make the file's header and the model's columns (...) name the ` +
    'same columns: add the missing ones to the file or to columns (...), or remove the extra ones'
  );
}

function columnList(names: readonly string[]): string {
  const quoted = names.map((name) => `'${name}'`).join(', ');
  return `column${names.length > 1 ? 's' : ''} ${quoted}`;
}

function invalid(problem: string): SeedColumnsResult {
  return { isValid: false, problem };
}
