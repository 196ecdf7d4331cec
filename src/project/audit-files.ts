import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { AuditDefinition } from '../core/audit.js';
import { SluiceError, SluiceErrors, throwIfAny } from '../core/errors.js';
import type { Dialect } from '../core/model.js';
import { BUILT_IN_AUDIT_NAMES } from '../sql/audits/built-in-audits.js';
import { parseAuditFile } from './audit-file.js';

export const AUDITS_FOLDER = 'audits';

/**
 * Loads the SQL audits of `audits/**\/*.sql` by name. Every file's problems, two audits of one
 * name and an audit named like a built-in are reported together.
 */
export async function loadAudits(
  root: string,
  defaultDialect: Dialect,
): Promise<Map<string, AuditDefinition>> {
  const errors: SluiceError[] = [];
  const audits = new Map<string, AuditDefinition>();
  for (const file of await listAuditFiles(root)) {
    try {
      const text = readFileSync(join(root, file), 'utf8');
      for (const definition of parseAuditFile({ file, text, defaultDialect })) {
        const problem = nameProblem(definition, audits);
        if (problem === undefined) audits.set(definition.name, definition);
        else errors.push(problem);
      }
    } catch (error) {
      if (error instanceof SluiceErrors) errors.push(...error.errors);
      else if (error instanceof SluiceError) errors.push(error);
      else throw error;
    }
  }
  throwIfAny(errors);
  return audits;
}

/** The `.sql` files under audits/, relative to the root with `/` separators, sorted. */
async function listAuditFiles(root: string): Promise<string[]> {
  const folder = join(root, AUDITS_FOLDER);
  let entries: string[];
  try {
    entries = await readdir(folder, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((entry) => entry.endsWith('.sql'))
    .sort()
    .map((entry) => relative(root, join(folder, entry)).split(sep).join('/'));
}

function nameProblem(
  definition: AuditDefinition,
  audits: ReadonlyMap<string, AuditDefinition>,
): SluiceError | undefined {
  const location = definition.origin;
  const earlier = audits.get(definition.name);
  if (earlier !== undefined) {
    return new SluiceError(
      'audit_invalid',
      `Audit '${definition.name}' is defined twice: here and in ${earlier.origin.file}:` +
        `${earlier.origin.line}; rename one of them or delete the copy`,
      { location },
    );
  }
  if (BUILT_IN_AUDIT_NAMES.includes(definition.name)) {
    return new SluiceError(
      'audit_invalid',
      `Audit '${definition.name}' has the name of a built-in audit; give it another name`,
      { location },
    );
  }
  return undefined;
}
