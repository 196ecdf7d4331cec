#!/usr/bin/env node
/**
 * Checks the import boundaries between Sluice's layers (DESIGN.md section 2). Each folder under
 * `src/` is a layer; LAYER_RULES below says which layers each may import, and which modules it may
 * not. Plain ESM JavaScript so that `npm run lint` runs it without a build:
 * `node tools/check-boundaries.mjs [project root]`.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findImports } from './import-scanner.mjs';

/** Node built-ins and packages that do I/O; `node:` is optional and subpaths count too. */
const IO_MODULES = [
  'node:fs',
  'node:fs/promises',
  'node:net',
  'node:http',
  'node:https',
  'node:http2',
  'node:child_process',
  'node:worker_threads',
  'node:cluster',
  'node:dgram',
  'node:tls',
  'node:dns',
  'node:process',
  'node:os',
  'node:readline',
  'pg',
  '@duckdb/node-api',
  'better-sqlite3-multiple-ciphers',
  'fastify',
  'pino',
  'kysely',
  'libpg-query',
];

/**
 * The boundary table: the other layers each layer may import (its own is always allowed), the
 * modules it may not import, and why. Importing a layer not listed is a violation.
 */
// biome-ignore format: one line per layer keeps the table readable and each rule a one-line change
export const LAYER_RULES = {
  core: { imports: [], forbiddenModules: IO_MODULES, why: 'core is pure domain: no I/O' },
  sql: { imports: ['core'], forbiddenModules: [], why: 'sql builds on the pure domain only' },
  project: { imports: ['sql', 'core'], forbiddenModules: [], why: 'loading a project needs only sql and the domain' },
  engines: { imports: ['project', 'sql', 'core'], forbiddenModules: [], why: 'engine adapters know projects and SQL, not who runs them' },
  state: { imports: ['project', 'sql', 'core'], forbiddenModules: [], why: 'state stores persist the domain and know no service or protocol' },
  protocol: { imports: ['core'], forbiddenModules: [], why: 'protocol holds the schemas scheduler and executor share' },
  scheduler: { imports: ['protocol', 'state', 'project', 'sql', 'core'], forbiddenModules: [], why: 'the scheduler never reaches a SQL engine and meets the executor only in protocol' },
  executor: { imports: ['protocol', 'engines', 'project', 'sql', 'core'], forbiddenModules: [], why: 'the executor holds nothing durable and meets the scheduler only in protocol' },
  gateway: { imports: ['protocol', 'project', 'sql', 'core'], forbiddenModules: [], why: 'the gateway keeps its own credential store, apart from scheduler state' },
  cli: { imports: ['scheduler', 'executor', 'gateway', 'web', 'protocol', 'state', 'engines', 'project', 'sql', 'core'], forbiddenModules: [], why: 'cli is the top layer' },
  web: { imports: ['protocol', 'core'], forbiddenModules: [], why: 'the web UI sees the scheduler only through protocol' },
};

const SOURCE_FILE = /\.(?:ts|mts|cts|js|mjs|cjs)$/;
const TEST_FILE = /\.test\.(?:ts|mts|cts|js|mjs|cjs)$/;

/** Lists every import under `rootDir/srcDir` that crosses a layer boundary the wrong way. */
export function checkBoundaries(rootDir, { srcDir = 'src' } = {}) {
  return checkTree(rootDir, srcDir).violations;
}

/** Formats a violation as `file:line: layer may not import 'specifier' (reason)`. */
export function formatViolation(violation) {
  const { file, line, fromLayer, specifier, rule } = violation;
  return `${file}:${line}: ${fromLayer} may not import '${specifier}' (${rule})`;
}

function checkTree(rootDir, srcDir) {
  const root = path.resolve(rootDir);
  const srcRoot = path.resolve(root, srcDir);
  if (!isDirectory(srcRoot)) {
    throw new Error(`No source folder '${srcDir}' in '${root}'; pass the project root.`);
  }

  const files = listSourceFiles(srcRoot);
  const violations = files.flatMap((file) => checkFile(file, root, srcRoot));
  return { files, violations };
}

function listSourceFiles(dir) {
  const entries = readdirSync(dir, { withFileTypes: true });
  entries.sort((left, right) => left.name.localeCompare(right.name));

  return entries.flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : listSourceFiles(full);
    const isSource = entry.isFile() && SOURCE_FILE.test(entry.name);
    return isSource && !TEST_FILE.test(entry.name) ? [full] : [];
  });
}

function checkFile(absoluteFile, root, srcRoot) {
  const fromLayer = layerOf(absoluteFile, srcRoot);
  if (fromLayer === undefined) return [];

  const file = path.relative(root, absoluteFile).split(path.sep).join('/');
  const imports = findImports(readFileSync(absoluteFile, 'utf8'));
  return imports.flatMap(({ specifier, line }) => {
    const broken = judgeImport(specifier, fromLayer, absoluteFile, srcRoot);
    return broken === undefined ? [] : [{ file, line, specifier, fromLayer, ...broken }];
  });
}

/** Returns the broken rule for one import, or undefined when the import is allowed. */
function judgeImport(specifier, fromLayer, absoluteFile, srcRoot) {
  const rule = ruleFor(fromLayer);

  if (specifier.startsWith('.') || path.isAbsolute(specifier)) {
    const toLayer = layerOf(path.resolve(path.dirname(absoluteFile), specifier), srcRoot);
    const isAllowed =
      toLayer === undefined || toLayer === fromLayer || rule.imports.includes(toLayer);
    return isAllowed ? undefined : { toLayer, rule: describeLayerRule(fromLayer, rule) };
  }

  const module = rule.forbiddenModules.find((forbidden) => isModule(specifier, forbidden));
  return module === undefined ? undefined : { module, rule: rule.why };
}

function ruleFor(layer) {
  if (Object.hasOwn(LAYER_RULES, layer)) return LAYER_RULES[layer];
  const why = `'${layer}' is not in the layer table of tools/check-boundaries.mjs; add it there`;
  return { imports: [], forbiddenModules: [], why };
}

function describeLayerRule(layer, rule) {
  const allowed = rule.imports.length === 0 ? 'no other layer' : rule.imports.join(', ');
  return `${rule.why}; ${layer} may import ${allowed}`;
}

/** The layer of a path under src, or undefined for files directly in src and paths outside it. */
function layerOf(absolutePath, srcRoot) {
  const relative = path.relative(srcRoot, absolutePath);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return undefined;

  const [first = '', ...rest] = relative.split(path.sep);
  const isFolder =
    rest.length > 0 || Object.hasOwn(LAYER_RULES, first) || isDirectory(absolutePath);
  return isFolder ? first : undefined;
}

function isModule(specifier, forbidden) {
  const name = specifier.replace(/^node:/, '');
  const forbiddenName = forbidden.replace(/^node:/, '');
  return name === forbiddenName || name.startsWith(`${forbiddenName}/`);
}

function isDirectory(candidate) {
  try {
    return statSync(candidate).isDirectory();
  } catch {
    return false;
  }
}

function main(args) {
  const scriptDir = path.dirname(fileURLToPath(import.meta.url));
  const root = path.resolve(args[0] ?? path.join(scriptDir, '..'));
  const { files, violations } = checkTree(root, 'src');

  for (const violation of violations) console.error(formatViolation(violation));
  if (violations.length > 0) {
    const noun = violations.length === 1 ? 'violation' : 'violations';
    console.error(`${violations.length} import boundary ${noun}; see DESIGN.md section 2.`);
    return 1;
  }
  process.stdout.write(`Import boundaries hold in ${files.length} source files.\n`);
  return 0;
}

function isRunAsScript() {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isRunAsScript()) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 2;
  }
}
