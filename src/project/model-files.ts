import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { SluiceError } from '../core/errors.js';

export const MODELS_FOLDER = 'models';

/** A model file found in the project, with its path relative to the project root. */
export type ModelFile = { readonly file: string; readonly absolutePath: string };

/** Lists `models/**\/*.sql` in a stable order; other model languages are named as not supported. */
export async function listModelFiles(root: string): Promise<ModelFile[]> {
  const folder = join(root, MODELS_FOLDER);
  let entries: string[];
  try {
    entries = await readdir(folder, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }

  const files: ModelFile[] = [];
  for (const entry of entries.sort()) {
    const absolutePath = join(folder, entry);
    const file = relative(root, absolutePath).split(sep).join('/');
    if (entry.endsWith('.sql')) files.push({ file, absolutePath });
    else if (entry.endsWith('.py') || entry.endsWith('.ts')) throw unsupportedLanguage(file);
  }
  return files;
}

function unsupportedLanguage(file: string): SluiceError {
  const language = file.endsWith('.py') ? 'Python' : 'TypeScript';
  return new SluiceError(
    'model_not_supported',
    `${language} models are not supported yet; ${file} cannot be loaded. ` +
      'Write the model in SQL or move the file out of models/',
    { location: { file } },
  );
}
