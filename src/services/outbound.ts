/**
 * The outbound-address rule (domain/outbound-url.ts) bound to this process: the operator's
 * allow-list, this control plane's own address, input checks that throw BAD_USER_INPUT, and the
 * DNS lookup every outbound connection to a stage uses, so a host name that resolves (or
 * rebinds) to a refused address is refused when the connection is made, not only when saved.
 */
import dns, { type LookupAddress } from 'node:dns';
import os from 'node:os';
import {
  allowedByName,
  checkOutboundHostPort,
  checkOutboundUrl,
  emptyAllowList,
  isSelf,
  refusedAddress,
  type AllowList,
  type OutboundTarget,
  type SelfAddress,
} from '../domain/outbound-url.js';
import { badInput } from '../errors.js';

/** The code a connection refused by the rule fails with (mapped to a fixed message by callers). */
export const OUTBOUND_REFUSED = 'EOUTBOUNDREFUSED';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

export class OutboundPolicy {
  private self: SelfAddress | null = null;

  /**
   * `resolve` is the system resolver; a test hands in its own to play a DNS server that
   * rebinds a name, which getaddrinfo cannot be pointed at.
   */
  constructor(
    readonly allow: AllowList = emptyAllowList(),
    private readonly resolve: typeof dns.lookup = dns.lookup,
  ) {}

  /** Called once the server listens: from then on, upstreams pointing at it are refused. */
  setSelf(port: number, hosts: readonly string[]): void {
    this.self = { port, hosts: [...hosts, os.hostname()] };
  }

  /** A stage URL: a bare http(s) origin the rule allows. */
  stageUrl(text: string, field = 'url'): OutboundTarget {
    const checked = checkOutboundUrl(text, this.allow);
    if (!checked.ok) throw badInput(`${field} ${checked.reason}`, { field });
    return checked.value;
  }

  /** A service registry's http(s) URL (a path is allowed). */
  registryUrl(text: string, field = 'address'): string {
    const checked = checkOutboundUrl(text, this.allow, { pathAllowed: true });
    if (!checked.ok) throw badInput(`${field} ${checked.reason}`, { field });
    return text;
  }

  /** A DNS resolver (host:port) of a service registry. */
  resolverAddress(host: string, port: number, field = 'address'): void {
    const checked = checkOutboundHostPort(host, port, this.allow);
    if (!checked.ok) throw badInput(`${field} ${checked.reason}`, { field });
  }

  /** An upstream node: the rule, and never this control plane itself. */
  upstreamNode(host: string, port: number, field = 'upstream.nodes'): void {
    const checked = checkOutboundHostPort(host, port, this.allow);
    if (!checked.ok) throw badInput(`${field}: ${checked.reason}`, { field });
    if (isSelf(checked.value.host, port, this.self)) {
      throw badInput(`${field}: an upstream cannot be this control plane itself (port ${port})`, { field });
    }
  }

  /**
   * `dns.lookup` for outbound sockets: resolves every address and refuses the connection when
   * any of them is refused (a name answering with a mix is a rebinding attempt, not a choice).
   */
  readonly lookup = (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    this.resolve(hostname, { ...options, all: true }, (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => {
      if (err) return callback(err, []);
      if (!allowedByName(hostname, this.allow)) {
        for (const { address } of addresses) {
          if (refusedAddress(address, this.allow)) {
            const refused: NodeJS.ErrnoException = new Error('address refused by the outbound rule');
            refused.code = OUTBOUND_REFUSED;
            return callback(refused, []);
          }
        }
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}
