import { SluiceError } from '../core/errors.js';
import { IDENTIFIER_LIMIT_BYTES } from '../core/physical-table.js';
import type { Snapshot } from '../core/snapshot.js';
import { createEngineAdapter } from '../engines/create-engine-adapter.js';
import type { EngineAdapter } from '../engines/engine-adapter.js';
import { resolveGatewaySettings } from '../gateway/reference-resolver.js';
import type { Project } from '../project/project.js';
import type { GatewayConfig } from '../project/project-config.js';
import { snapshotsOfProject } from '../project/project-snapshots.js';

/** A project's default gateway and its snapshots, with tables named for that gateway's engine. */
export type ProjectVersions = {
  readonly gateway: GatewayConfig;
  readonly snapshots: ReadonlyMap<string, Snapshot>;
};

/** The project's default gateway. */
export function defaultGatewayOf(project: Project): GatewayConfig {
  const gateway = project.config.gateways.get(project.config.defaultGateway);
  if (gateway !== undefined) return gateway;
  throw new SluiceError(
    'config_invalid',
    `The default gateway '${project.config.defaultGateway}' is not defined in sluice.yaml`,
  );
}

/** The snapshots of the project on its default gateway. */
export async function projectVersions(project: Project): Promise<ProjectVersions> {
  const gateway = defaultGatewayOf(project);
  const snapshots = await snapshotsOfProject(project, IDENTIFIER_LIMIT_BYTES[gateway.type]);
  return { gateway, snapshots };
}

/** Opens the gateway's engine for `work` and always closes it. */
export async function withEngine<T>(
  project: Project,
  gateway: GatewayConfig,
  work: (adapter: EngineAdapter) => Promise<T>,
): Promise<T> {
  const settings = resolveGatewaySettings(gateway, { baseDir: project.root });
  const adapter = await createEngineAdapter({
    gateway: gateway.name,
    type: gateway.type,
    settings,
    baseDir: project.root,
  });
  try {
    return await work(adapter);
  } finally {
    await adapter.close();
  }
}
