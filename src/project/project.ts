import type { AuditDefinition } from '../core/audit.js';
import type { Dag } from '../core/dag.js';
import type { Model } from '../core/model.js';
import type { ProjectConfig } from './project-config.js';

/** A loaded project: its configuration, every model with its dependencies, and their graph. */
export type Project = {
  /** Absolute path of the project folder. */
  readonly root: string;
  readonly config: ProjectConfig;
  /** Models by normalised name, external models included. */
  readonly models: ReadonlyMap<string, Model>;
  /** The graph of every enabled model, parents first. */
  readonly dag: Dag;
  /** The SQL audits of audits/ by name. */
  readonly audits: ReadonlyMap<string, AuditDefinition>;
};
