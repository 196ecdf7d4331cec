import { z } from 'zod';

/**
 * The roles an OAuth client can hold (DESIGN.md section 9). A client holds one or more; what each
 * may do is decided by the Scheduler's access policy.
 */
export const ROLES = [
  'admin',
  'deployer',
  'developer',
  'viewer',
  'executor:run',
  'executor:apply',
  'gateway:read',
] as const;

/** One role. */
export type Role = (typeof ROLES)[number];

export const roleSchema = z.enum(ROLES);

/** Whether `text` names a role. */
export function isRole(text: string): text is Role {
  return (ROLES as readonly string[]).includes(text);
}
