/**
 * What becomes of an open socket when its credential is checked again (on a credential-change
 * notification, at expiry, or when it starts an operation). Pure: the caller looks the
 * credential up and acts on the verdict.
 */
import type { Privilege } from './privileges.js';

export interface SocketHolder {
  /** The user (or `gateway:<tokenId>`) the socket was opened as. */
  id: string;
  privileges: readonly Privilege[];
}

export type SocketVerdict =
  | { keep: true }
  | { keep: false; reason: string };

/**
 * `now` is the credential's holder today: null when the token no longer counts (revoked, logged
 * out, expired, user deleted, sessions ended by a password change). A socket may keep running
 * only as the same holder with at least the privileges it was opened with; a raised role keeps
 * it (new operations get the new privileges), a reduced one closes it, because subscriptions it
 * started under the old privileges would otherwise keep streaming.
 */
export function socketVerdict(opened: SocketHolder | null, now: SocketHolder | null, tokenSent: boolean): SocketVerdict {
  if (!tokenSent) return { keep: true }; // anonymous: nothing to revoke
  if (!now || !opened || now.id !== opened.id) return { keep: false, reason: 'credential revoked or expired' };
  const lost = opened.privileges.filter((p) => !now.privileges.includes(p));
  // EXPORT_IMPORT is the old name of a pair: when a part of it is named, it is said already
  // (and a close reason has room for 123 bytes only).
  const named = lost.some((p) => p === 'EXPORT_ASSETS' || p === 'IMPORT_ASSETS') ? lost.filter((p) => p !== 'EXPORT_IMPORT') : lost;
  if (lost.length) return { keep: false, reason: `privileges reduced (lost ${named.join(', ')})` };
  return { keep: true };
}
