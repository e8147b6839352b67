/**
 * Who a promotion's import is recorded as. A source stage sends its promotion (id, name, who
 * promoted) in the `X-Stagecraft-Promotion` header, but a header is only a claim: the target
 * can authenticate the caller, not the source's user. So the claim is kept only from a caller
 * who may promote here (the stage-credentials user) and always recorded next to that caller —
 * "alice via promoter" — and a caller who may not promote gets the header's "who" dropped: the
 * rollback records the caller alone. Nobody can make a rollback read "promoted by cto" alone.
 */
import type { Privilege } from './privileges.js';

export interface PromotionClaim {
  id: string;
  name: string;
  description: string;
  promotedBy: string;
}

/**
 * The privileges that make a caller's promotion claim worth recording, and that let a caller
 * import a promotion at all: the seed's stage user holds "Manage promotions" or "Manage assets".
 */
export const PROMOTION_PRIVILEGES: readonly Privilege[] = ['MANAGE_PROMOTIONS', 'MANAGE_ASSETS'];

export const mayReceivePromotion = (caller: { privileges: readonly Privilege[] }) => PROMOTION_PRIVILEGES.some((p) => caller.privileges.includes(p));

/** A claimed user name: the characters of user names, so " via " cannot be smuggled in. */
export const CLAIMED_USER = /^[A-Za-z0-9._@-]{1,64}$/;

export function attributePromotion(claim: PromotionClaim | null, caller: { username: string; privileges: readonly Privilege[] }): PromotionClaim | null {
  if (!claim) return null;
  const believed = mayReceivePromotion(caller) && CLAIMED_USER.test(claim.promotedBy);
  return { ...claim, promotedBy: believed ? `${claim.promotedBy} via ${caller.username}` : caller.username };
}
