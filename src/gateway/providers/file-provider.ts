import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SluiceError } from '../../core/errors.js';
import type {
  CredentialProvider,
  ProvidedParameter,
  ProvidedParameters,
} from '../credential-provider.js';

/** Where the file provider looks. */
export type FileProviderOptions = {
  /** Folder with one folder per gateway, one file per parameter: `<dir>/<gateway>/<param>`. */
  readonly dir: string;
  /** A gateway whose parameters are files directly in `dir`: `<dir>/<param>` (one Secret). */
  readonly flatGateway?: string;
};

/** Kubernetes points this link at the current version of a mounted Secret and swaps it. */
const KUBERNETES_DATA_LINK = '..data';

/** Tries to list a Secret again when its version folder vanished during a swap. */
const LIST_ATTEMPTS = 3;

/**
 * Connection parameters from files, one per parameter, named as the parameter (`password`, `host`),
 * the layout of a mounted Kubernetes Secret or a secrets-manager agent's output folder.
 *
 * Nothing is cached: every call lists the folder and every chosen parameter's file is read again,
 * so a rotated Secret is used from the next resolve on, without a restart. Names starting with `.`
 * are skipped (Kubernetes keeps `..data` and its timestamped version folders there); symbolic links
 * are followed; folders are skipped; one trailing newline is trimmed from a value. When the folder
 * has a `..data` link, the files are read through its target as it was when listed, so all
 * parameters of one resolve come from the same version of the Secret.
 */
export function createFileProvider(options: FileProviderOptions): CredentialProvider {
  return {
    name: 'files',
    parametersOf: async (gateway) => parametersOf(gateway, options),
  };
}

async function parametersOf(
  gateway: string,
  options: FileProviderOptions,
): Promise<ProvidedParameters | undefined> {
  await requireSecretsFolder(options.dir);
  if (gateway !== options.flatGateway && !isPlainFolderName(gateway)) return undefined;

  const folder = gateway === options.flatGateway ? options.dir : join(options.dir, gateway);
  for (let attempt = 1; ; attempt++) {
    try {
      return await listFolder(gateway, folder);
    } catch (error) {
      if (!isMissing(error) || attempt >= LIST_ATTEMPTS) throw unreadableFolder(gateway, folder);
    }
  }
}

/** A gateway name that cannot lead out of the secrets folder (`..`, `a/b`) or into a dot-file. */
function isPlainFolderName(gateway: string): boolean {
  return gateway !== '' && !gateway.startsWith('.') && !/[/\\]/.test(gateway);
}

async function listFolder(
  gateway: string,
  folder: string,
): Promise<ProvidedParameters | undefined> {
  const source = await currentVersionOf(folder);
  if (source === undefined) return undefined;

  const parameters = new Map<string, ProvidedParameter>();
  for (const name of await readdir(source)) {
    if (name.startsWith('.') || (await isOtherThanFile(join(source, name)))) continue;
    parameters.set(name, {
      origin: `file ${join(folder, name)}`,
      read: () => readParameter(gateway, name, source, folder),
    });
  }
  return parameters.size === 0 ? undefined : parameters;
}

/** The folder the files are read from: `..data`'s target when present, or undefined when absent. */
async function currentVersionOf(folder: string): Promise<string | undefined> {
  try {
    return await realpath(join(folder, KUBERNETES_DATA_LINK));
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  try {
    return (await stat(folder)).isDirectory() ? folder : undefined;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** A name that cannot be stat'ed counts as a file, so that reading it reports the problem. */
async function isOtherThanFile(path: string): Promise<boolean> {
  try {
    return !(await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Reads a parameter from the version listed; when a swap removed that version in between, reads
 * the same name through the folder, which then points at the newer version.
 */
async function readParameter(gateway: string, name: string, source: string, folder: string) {
  const visiblePath = join(folder, name);
  try {
    return trimNewline(await readFile(join(source, name), 'utf8'));
  } catch (error) {
    if (source === folder || !isMissing(error)) throw unreadableFile(gateway, name, visiblePath);
  }
  try {
    return trimNewline(await readFile(visiblePath, 'utf8'));
  } catch {
    throw unreadableFile(gateway, name, visiblePath);
  }
}

async function requireSecretsFolder(dir: string): Promise<void> {
  const isDirectory = await stat(dir).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
  if (isDirectory) return;
  throw new SluiceError(
    'secret_unresolved',
    `The gateway secrets folder ${dir} does not exist or is not a folder; mount the Secret ` +
      'there or point SLUICE_GATEWAY_SECRETS_DIR at the folder that holds it',
  );
}

function trimNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function unreadableFile(gateway: string, parameter: string, path: string): SluiceError {
  return new SluiceError(
    'secret_unresolved',
    `Gateway '${gateway}' reads '${parameter}' from the file ${path}, which cannot be read; ` +
      'check that it exists and that this process may read it',
  );
}

function unreadableFolder(gateway: string, folder: string): SluiceError {
  return new SluiceError(
    'secret_unresolved',
    `The secrets folder ${folder} of gateway '${gateway}' cannot be listed; check that this ` +
      'process may read it',
  );
}
