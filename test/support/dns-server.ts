/**
 * An authoritative DNS server on 127.0.0.1 for tests, speaking the real wire protocol over UDP
 * (dns2's UDP server, pure JavaScript: nothing to install beyond npm). It serves only the zone it
 * is given — SRV and A records — answers NXDOMAIN for every other name, and keeps a log of the
 * questions it was asked so a test can prove an answer came from it and not from the system
 * resolver.
 */
import { Packet, UDPServer } from 'dns2';

export interface SrvRecord {
  target: string;
  port: number;
  priority?: number;
  weight?: number;
}

export interface Zone {
  /** SRV records by owner name, e.g. `_petstore._tcp.demo.test`. */
  srv?: Record<string, SrvRecord[]>;
  /** IPv4 addresses by name. */
  a?: Record<string, string[]>;
}

export interface RunningDnsServer {
  port: number;
  /** Every question asked so far, as `SRV _petstore._tcp.demo.test` / `A b.demo.test`. */
  queries: string[];
  stop(): Promise<void>;
}

const TTL = 1;
const typeName = (type: number) => Object.entries(Packet.TYPE).find(([, value]) => value === type)?.[0] ?? String(type);

/** Starts the server on `port` (0 = a free one; a fixed one to come back where a stopped one was). */
export async function startDnsServer(zone: Zone, port = 0): Promise<RunningDnsServer> {
  const queries: string[] = [];
  const server = new UDPServer((request, send) => {
    const response = Packet.createResponseFromRequest(request);
    response.header.aa = 1;
    for (const question of request.questions) {
      // Names are case-insensitive on the wire (RFC 4343); resolvers may randomise the case.
      const name = question.name.toLowerCase();
      queries.push(`${typeName(question.type)} ${name}`);
      if (question.type === Packet.TYPE.SRV) {
        for (const r of zone.srv?.[name] ?? []) {
          response.answers.push(Packet.createResourceFromQuestion(question, { type: Packet.TYPE.SRV, class: Packet.CLASS.IN, ttl: TTL, priority: r.priority ?? 0, weight: r.weight ?? 1, port: r.port, target: r.target }));
        }
      } else if (question.type === Packet.TYPE.A) {
        for (const address of zone.a?.[name] ?? []) {
          response.answers.push(Packet.createResourceFromQuestion(question, { type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: TTL, address }));
        }
      }
    }
    const known = request.questions.some((q) => zone.srv?.[q.name.toLowerCase()] || zone.a?.[q.name.toLowerCase()]);
    if (!known) response.header.rcode = 3; // NXDOMAIN
    void send(response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.bind(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  let stopped = false;
  return {
    port: server.address().port,
    queries,
    stop: () =>
      stopped
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            stopped = true;
            server.close(() => resolve());
          }),
  };
}
