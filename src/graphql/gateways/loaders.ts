/**
 * The gateway area's DataLoaders, part of the request's loader set (src/graphql/loaders.ts): a
 * list of groups costs one statement per kind of thing, however many groups it holds.
 */
import DataLoader from 'dataloader';
import type { GatewayGroupEntity, GatewayInstanceEntity, GroupServiceEntity, ServiceVersionEntity } from '../../entities/gateway.js';
import type { GatewayService } from '../../services/gateways.js';

export interface GatewayLoaders {
  groupById: DataLoader<string, GatewayGroupEntity | null>;
  /** Which version of each service a group runs, by service name. */
  runningOfGroup: DataLoader<string, GroupServiceEntity[]>;
  /** Every version published in a group (the history), oldest first. */
  versionsOfGroup: DataLoader<string, ServiceVersionEntity[]>;
  instancesOfGroup: DataLoader<string, GatewayInstanceEntity[]>;
  instancesOfToken: DataLoader<string, GatewayInstanceEntity[]>;
}

/** Rows of a batch read, handed back per key in the order the keys came. */
function byKey<T>(keys: readonly string[], rows: readonly T[], key: (row: T) => string | null): T[][] {
  const groups = new Map<string, T[]>(keys.map((k) => [k, []]));
  for (const row of rows) groups.get(key(row) ?? '')?.push(row);
  return keys.map((k) => groups.get(k)!);
}

export function createGatewayLoaders(gateways: GatewayService): GatewayLoaders {
  return {
    groupById: new DataLoader(async (ids) => {
      const rows = await gateways.groupsByIds(ids);
      return byKey(ids, rows, (g) => g.id).map((found) => found[0] ?? null);
    }),
    runningOfGroup: new DataLoader(async (ids) => byKey(ids, await gateways.running(ids), (r) => r.groupId)),
    versionsOfGroup: new DataLoader(async (ids) => byKey(ids, await gateways.versions(ids), (v) => v.groupId)),
    instancesOfGroup: new DataLoader(async (ids) => byKey(ids, await gateways.instances(ids), (i) => i.groupId)),
    instancesOfToken: new DataLoader(async (ids) => byKey(ids, await gateways.instancesOfTokens(ids), (i) => i.tokenId)),
  };
}
