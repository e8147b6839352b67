/** What the signed-in user may do: the console shows only the actions the API would allow. */
export type Privilege = 'MANAGE_ASSETS' | 'MANAGE_PROMOTIONS' | 'EXPORT_IMPORT' | 'MANAGE_GATEWAY_GROUPS' | 'MANAGE_USERS' | 'GATEWAY_AGENT';

export interface Me {
  username: string;
  role: string;
  privileges: readonly string[];
}

export const can = (me: Me | null | undefined, privilege: Privilege): boolean => !!me?.privileges.includes(privilege);
