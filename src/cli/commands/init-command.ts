import { mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { SluiceError } from '../../core/errors.js';
import { PROJECT_FILE } from '../../project/project-config.js';
import type { Output } from '../output.js';
import { projectTemplate } from './init-template.js';

/** `sluice init [DIR]`: writes a small working project; refuses to overwrite an existing one. */
export async function initCommand(directory: string, output: Output) {
  const root = resolve(directory);
  if (await exists(join(root, PROJECT_FILE))) {
    throw new SluiceError(
      'usage',
      `${join(root, PROJECT_FILE)} already exists; run 'sluice init' in an empty folder`,
    );
  }

  const name = projectName(root);
  const files = projectTemplate(name);
  for (const [path, text] of Object.entries(files)) {
    const target = join(root, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, text, { flag: 'wx' });
  }

  output.stdout.write(`Created project '${name}' in ${root}:\n`);
  for (const path of Object.keys(files)) output.stdout.write(`  ${path}\n`);
  output.stdout.write(`Next: cd ${directory} && sluice dag\n`);
}

function projectName(root: string): string {
  const cleaned = basename(root).replace(/[^A-Za-z0-9_-]/g, '_');
  return /^[A-Za-z_]/.test(cleaned) ? cleaned : `project_${cleaned}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
