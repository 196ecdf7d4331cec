import { join } from 'node:path';
import { projectVersions } from '../../src/cli/project-run-setup.js';
import { createEngineAdapter } from '../../src/engines/create-engine-adapter.js';
import type { EngineAdapter } from '../../src/engines/engine-adapter.js';
import { loadProject } from '../../src/project/project-loader.js';

/** Projects planned through the Scheduler's API in tests, on a DuckDB file in the project. */

/** A sluice.yaml whose only gateway is DuckDB in `warehouse.duckdb` inside the project. */
export const DUCKDB_PROJECT_CONFIG =
  'name: shop\ngateways:\n  local:\n    connection:\n      type: duckdb\n      database: warehouse.duckdb\n';

/** The body of `POST /v1/environments/{environment}/plans` for the project at `root`. */
export async function planBody(
  root: string,
  environment: string,
  options: { readonly shouldSkipBackfill?: boolean } = {},
) {
  const project = await loadProject(root);
  const { gateway, snapshots } = await projectVersions(project);
  return {
    environment,
    target: { projectName: project.config.name, gateway: gateway.name, engine: gateway.type },
    order: project.dag.nodes,
    options: {
      isForwardOnly: false,
      restateModels: [],
      shouldSkipBackfill: options.shouldSkipBackfill ?? false,
      selectModels: [],
    },
    snapshots: [...snapshots.values()],
  };
}

/** An adapter on the project's `warehouse.duckdb`; close it after use. */
export function openProjectDuckDb(root: string): Promise<EngineAdapter> {
  return createEngineAdapter({
    gateway: 'local',
    type: 'duckdb',
    settings: { database: join(root, 'warehouse.duckdb') },
    baseDir: root,
  });
}
