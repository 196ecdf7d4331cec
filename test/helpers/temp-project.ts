import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';

/**
 * Writes a project from a map of relative paths to contents into a new temporary folder, or over
 * the files of `root` when given.
 */
export async function writeProject(files: Record<string, string>, root?: string): Promise<string> {
  root ??= await mkdtemp(join(tmpdir(), 'sluice-test-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

/** What one CLI invocation printed and returned. */
export type CliResult = { readonly code: number; readonly stdout: string; readonly stderr: string };

/** Runs the CLI in this process with captured output. */
export async function runCli(...args: string[]): Promise<CliResult> {
  const stdout = collect();
  const stderr = collect();
  const code = await main(['node', 'sluice', ...args], {
    stdout: stdout.stream,
    stderr: stderr.stream,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

function collect() {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** A minimal sluice.yaml for test projects. */
export const MINIMAL_CONFIG = "name: test\nmodel_defaults:\n  start: '2024-01-01'\n";
