/**
 * Functional privileges and the access profiles that grant them (DESIGN §2). Users hold a
 * built-in profile directly (their `role`) and every profile of the groups they belong to; what
 * they may do is the union. Reading needs any signed-in user.
 */
export const roles = ['SUPER_ADMIN', 'API_PROVIDER', 'VIEWER'] as const;
export type Role = (typeof roles)[number];

export const privileges = [
  'MANAGE_ASSETS',
  'MANAGE_PROMOTIONS',
  /** Export and import together: kept so profiles and clients that name it keep working. */
  'EXPORT_IMPORT',
  'EXPORT_ASSETS',
  'IMPORT_ASSETS',
  'MANAGE_GATEWAY_GROUPS',
  'MANAGE_USERS',
  /** Held by gateway instance tokens only (no profile may grant it): fetch config, heartbeat. */
  'GATEWAY_AGENT',
] as const;
export type Privilege = (typeof privileges)[number];

/** What an access profile may grant: everything but the gateway instances' own privilege. */
export const grantablePrivileges = privileges.filter((p) => p !== 'GATEWAY_AGENT') as Exclude<Privilege, 'GATEWAY_AGENT'>[];
export type GrantablePrivilege = (typeof grantablePrivileges)[number];

export const isGrantable = (value: string): value is GrantablePrivilege => (grantablePrivileges as readonly string[]).includes(value);

/**
 * The built-in profiles (one per role); they cannot be edited or deleted. Their privileges are
 * kept here, not in the database, so an upgrade that adds a privilege reaches them at once.
 */
export const builtInProfiles: Record<Role, readonly GrantablePrivilege[]> = {
  SUPER_ADMIN: ['MANAGE_ASSETS', 'MANAGE_PROMOTIONS', 'EXPORT_ASSETS', 'IMPORT_ASSETS', 'MANAGE_GATEWAY_GROUPS', 'MANAGE_USERS'],
  API_PROVIDER: ['MANAGE_ASSETS', 'MANAGE_PROMOTIONS', 'EXPORT_ASSETS', 'IMPORT_ASSETS', 'MANAGE_GATEWAY_GROUPS'],
  VIEWER: [],
};

export const isRole = (value: string): value is Role => (roles as readonly string[]).includes(value);

/**
 * The privileges a set of grants amounts to, in the canonical order. EXPORT_IMPORT is the pair
 * EXPORT_ASSETS + IMPORT_ASSETS under its old name: either form implies the other, so a field
 * guarded by either and a profile granting either agree.
 */
export function effectivePrivileges(granted: Iterable<string>): Privilege[] {
  const held = new Set<string>(granted);
  if (held.has('EXPORT_IMPORT')) held.add('EXPORT_ASSETS').add('IMPORT_ASSETS');
  if (held.has('EXPORT_ASSETS') && held.has('IMPORT_ASSETS')) held.add('EXPORT_IMPORT');
  return privileges.filter((p) => held.has(p));
}

/** Grants as stored (privilege names and built-in markers) → the privileges they amount to. */
export function grantsToPrivileges(grants: readonly string[]): string[] {
  return grants.flatMap((g) => {
    const role = g.startsWith('role:') ? g.slice(5) : null;
    if (role === null) return [g];
    return isRole(role) ? [...builtInProfiles[role]] : [];
  });
}

/** A user's privileges: their role's built-in profile and the profiles their groups hold. */
export function privilegesOfUser(role: Role, fromGroups: Iterable<string> = []): Privilege[] {
  return effectivePrivileges([...builtInProfiles[role], ...fromGroups].filter(isGrantable));
}

/** The privileges of a role alone (a user in no group). */
export const privilegesOf: Record<Role, readonly Privilege[]> = {
  SUPER_ADMIN: privilegesOfUser('SUPER_ADMIN'),
  API_PROVIDER: privilegesOfUser('API_PROVIDER'),
  VIEWER: privilegesOfUser('VIEWER'),
};
