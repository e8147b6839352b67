/** Roles and the privileges they grant (DESIGN §2). Reading needs any signed-in user. */
export const roles = ['SUPER_ADMIN', 'API_PROVIDER', 'VIEWER'] as const;
export type Role = (typeof roles)[number];

export const privileges = [
  'MANAGE_ASSETS',
  'MANAGE_PROMOTIONS',
  'EXPORT_IMPORT',
  'MANAGE_GATEWAY_GROUPS',
  'MANAGE_USERS',
  /** Held by gateway instance tokens only (no user role has it): fetch config, heartbeat. */
  'GATEWAY_AGENT',
] as const;
export type Privilege = (typeof privileges)[number];

export const privilegesOf: Record<Role, readonly Privilege[]> = {
  SUPER_ADMIN: ['MANAGE_ASSETS', 'MANAGE_PROMOTIONS', 'EXPORT_IMPORT', 'MANAGE_GATEWAY_GROUPS', 'MANAGE_USERS'],
  API_PROVIDER: ['MANAGE_ASSETS', 'MANAGE_PROMOTIONS', 'EXPORT_IMPORT', 'MANAGE_GATEWAY_GROUPS'],
  VIEWER: [],
};

export function hasPrivilege(role: Role, privilege: Privilege): boolean {
  return privilegesOf[role].includes(privilege);
}
