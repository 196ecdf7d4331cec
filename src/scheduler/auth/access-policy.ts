import { PROD } from '../../core/environments.js';
import { SluiceError } from '../../core/errors.js';
import type { TaskPool } from '../../core/task-pool.js';
import type { Role } from '../../protocol/roles.js';

/**
 * What each role may do (DESIGN.md section 9). Every endpoint names one permission; those marked
 * per environment are decided with the environment in hand: only `deployer` and `admin` may
 * change prod, `developer` may change every other environment.
 */

/** The permissions endpoints ask for. */
export type Permission =
  | 'clients:manage'
  | 'audit:read'
  | 'metrics:read'
  | 'state:read'
  | 'environment:write'
  | 'plan:create'
  | 'plan:apply'
  | 'tasks:run'
  | 'tasks:apply'
  | 'tasks:pull'
  | 'gateway:read';

/** Permissions that are decided per environment. */
const PER_ENVIRONMENT: ReadonlySet<Permission> = new Set(['environment:write', 'plan:apply']);

const READERS: readonly Role[] = ['admin', 'deployer', 'developer', 'viewer'];

/** Permissions that hold everywhere, whatever the environment. */
type FixedPermission = Exclude<Permission, 'environment:write' | 'plan:apply'>;

const GRANTS: Readonly<Record<FixedPermission, readonly Role[]>> = {
  'clients:manage': ['admin'],
  'audit:read': ['admin'],
  'metrics:read': READERS,
  'state:read': READERS,
  /** Making a plan changes no environment: developers may see what a plan for prod holds. */
  'plan:create': ['admin', 'deployer', 'developer'],
  'tasks:run': ['executor:run'],
  'tasks:apply': ['executor:apply'],
  /** The pull protocol's routes; which pools a caller may work is checked per request. */
  'tasks:pull': ['executor:run', 'executor:apply'],
  'gateway:read': ['gateway:read'],
};

const PROD_WRITERS: readonly Role[] = ['admin', 'deployer'];
const DEVELOPMENT_WRITERS: readonly Role[] = ['admin', 'deployer', 'developer'];

/** Whether a permission is decided per environment. */
export function isPerEnvironment(permission: Permission): boolean {
  return PER_ENVIRONMENT.has(permission);
}

/**
 * Whether a client holding `roles` has `permission`; per-environment permissions need the
 * environment's name.
 */
export function permits(
  roles: readonly Role[],
  permission: Permission,
  environment?: string,
): boolean {
  return rolesGranting(permission, environment).some((role) => roles.includes(role));
}

/** The roles that grant `permission` (on `environment`, for per-environment permissions). */
export function rolesGranting(permission: Permission, environment?: string): readonly Role[] {
  if (permission === 'environment:write' || permission === 'plan:apply') {
    if (environment === undefined) {
      throw new SluiceError('internal', `Permission '${permission}' needs an environment`);
    }
    return environment === PROD ? PROD_WRITERS : DEVELOPMENT_WRITERS;
  }
  return GRANTS[permission];
}

/** The permission to work the tasks of `pool`: `tasks:run` or `tasks:apply`. */
export function poolPermission(pool: TaskPool): Permission {
  return pool === 'run' ? 'tasks:run' : 'tasks:apply';
}
