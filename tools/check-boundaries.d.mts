/** The folders under `src/` that are layers of the architecture. */
export type LayerName =
  | 'core'
  | 'sql'
  | 'project'
  | 'engines'
  | 'state'
  | 'protocol'
  | 'scheduler'
  | 'executor'
  | 'gateway'
  | 'cli'
  | 'web';

/** What one layer may import besides itself, which modules it may not, and why. */
export type LayerRule = {
  readonly imports: readonly LayerName[];
  readonly forbiddenModules: readonly string[];
  readonly why: string;
};

/** The boundary table, one rule per layer. */
export const LAYER_RULES: Readonly<Record<LayerName, LayerRule>>;

/** One import that crosses a boundary: into a forbidden layer (`toLayer`) or module (`module`). */
export type BoundaryViolation = {
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
  readonly fromLayer: string;
  readonly toLayer?: string;
  readonly module?: string;
  readonly rule: string;
};

/** Where the sources are, relative to the root directory. */
export type CheckBoundariesOptions = {
  readonly srcDir?: string;
};

/** Lists every import under `rootDir/srcDir` that crosses a layer boundary the wrong way. */
export function checkBoundaries(
  rootDir: string,
  options?: CheckBoundariesOptions,
): BoundaryViolation[];

/** Formats a violation as `file:line: layer may not import 'specifier' (reason)`. */
export function formatViolation(violation: BoundaryViolation): string;
