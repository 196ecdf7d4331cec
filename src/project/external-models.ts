import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { SluiceError } from '../core/errors.js';
import type { ModelDefaults, ModelDefinition } from '../core/model.js';
import { parseQualifiedName } from '../core/names.js';
import { parseYamlFile, validateYaml } from './yaml-file.js';

export const EXTERNAL_MODELS_FILE = 'external_models.yaml';

const externalSchema = z.array(
  z.strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    owner: z.string().optional(),
    tags: z.array(z.string()).optional(),
    columns: z.record(z.string(), z.string()).optional(),
  }),
);

const ENTRY_KEYS = Object.keys(externalSchema.element.shape);

/** Reads `external_models.yaml`, the source tables a project reads but does not build. */
export async function loadExternalModels(
  root: string,
  defaults: ModelDefaults,
): Promise<ModelDefinition[]> {
  let text: string;
  try {
    text = await readFile(join(root, EXTERNAL_MODELS_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return parseExternalModels(EXTERNAL_MODELS_FILE, text, defaults);
}

/** Validates the text of external_models.yaml into models of kind EXTERNAL. */
export function parseExternalModels(
  file: string,
  text: string,
  defaults: ModelDefaults,
): ModelDefinition[] {
  const yaml = parseYamlFile(file, text);
  const entries = validateYaml(yaml, externalSchema, { allowedKeys: () => ENTRY_KEYS });

  return entries.map((entry, index) => {
    const location = yaml.locate([index, 'name']);
    return {
      name: qualifiedName(entry.name, location),
      kind: { name: 'EXTERNAL' },
      dialect: defaults.dialect,
      cron: defaults.cron,
      cronTimeZone: defaults.cronTimeZone,
      intervalUnit: undefined,
      start: undefined,
      end: undefined,
      grains: [],
      tags: entry.tags ?? [],
      owner: entry.owner,
      description: entry.description,
      columns: Object.entries(entry.columns ?? {}).map(([name, type]) => ({ name, type })),
      audits: [],
      dependsOn: [],
      isEnabled: true,
      allowsPartials: false,
      origin: { file, line: location.line ?? 1, column: location.column ?? 1 },
      query: undefined,
      preStatements: [],
      postStatements: [],
    };
  });
}

function qualifiedName(text: string, location: { file: string; line?: number }): string {
  const name = parseQualifiedName(text);
  if (!name.includes('.')) {
    throw new SluiceError(
      'config_invalid',
      `External model '${text}' needs a schema; write it as schema.${text}`,
      { location },
    );
  }
  return name;
}
