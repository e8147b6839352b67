/**
 * Gateway groups (API7 model): publish an API as a service version into a group, run one
 * version of each service at a time, roll back to an earlier one, and sync the running version
 * to another group. Every change bumps the group's revision and is announced on the stream
 * `gateway:<group>`, which the `gatewayConfig` subscription turns into fresh snapshots.
 */
import { isUniqueViolation } from '../db/errors.js';
import { isUuid, parseId } from '../db/ids.js';
import { Repeater } from '@repeaterjs/repeater';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { In, type DataSource, type EntityManager } from 'typeorm';
import type { GatewayConfig, RouteConfig, ServiceConfig } from '../dataplane/config.js';
import { AssetEntity } from '../entities/asset.js';
import {
  GatewayGroupEntity,
  GatewayInstanceEntity,
  GatewayTokenEntity,
  GroupServiceEntity,
  ServiceRegistryEntity,
  ServiceVersionEntity,
  type UpstreamSpec,
} from '../entities/gateway.js';
import { AppError, badInput, conflict, notFound } from '../errors.js';
import { appendEvent, type EventLog } from '../events/event-log.js';
import type { Logger } from '../logger.js';
import type { SecretBox } from '../secrets.js';
import type { AuthUser } from './auth.js';

export const gatewayStream = (group: string) => `gateway:${group}`;
export const syncStream = (operationId: string) => `sync:${operationId}`;

/** An instance is ONLINE while its heartbeats are fresher than this. */
export const ONLINE_WINDOW_MS = 15_000;
export const GATEWAY_TOKEN_PREFIX = 'gwt_';
const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9 _.-]{0,99}$/;
const VERSION = /^\d+\.\d+\.\d+$/;
const digest = (token: string) => createHash('sha256').update(token).digest('hex');

export interface UpstreamInput {
  nodes?: { host: string; port: number; weight?: number | null }[] | null;
  discovery?: { registry: string; namespace?: string | null; serviceName: string } | null;
  timeoutMs?: number | null;
  retries?: number | null;
}

export interface RegistryInput {
  gatewayGroup: string;
  name: string;
  type: 'DNS' | 'NACOS' | 'KUBERNETES';
  address: string;
  token?: string | null;
  refreshMs?: number | null;
}

/** "1.0.9" → "1.0.10". */
function nextPatch(version: string): string {
  const [major, minor, patch] = version.split('.').map(Number) as [number, number, number];
  return `${major}.${minor}.${patch + 1}`;
}

const compareSemver = (a: string, b: string) => {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
};

/** Routes of an API asset: its spec's routes under its base path. */
export function routesOf(asset: AssetEntity): RouteConfig[] {
  const base = String(asset.spec.basePath ?? '/').replace(/\/+$/, '');
  const routes = (asset.spec.routes as { method: string; path: string }[] | undefined) ?? [];
  if (!routes.length) return [{ id: `${asset.id}:all`, methods: [], paths: [`${base}/*`], host: null }];
  return routes.map((r, i) => ({ id: `${asset.id}:${i}`, methods: [r.method], paths: [`${base}${r.path}`], host: null }));
}

export class GatewayService {
  constructor(
    private readonly db: DataSource,
    private readonly events: EventLog,
    private readonly secrets: SecretBox,
    private readonly log: Logger,
  ) {}

  // ---- groups ----

  listGroups(): Promise<GatewayGroupEntity[]> {
    return this.db.getRepository(GatewayGroupEntity).find({ order: { name: 'ASC' } });
  }

  async group(name: string, manager: EntityManager = this.db.manager): Promise<GatewayGroupEntity> {
    const group = await manager.getRepository(GatewayGroupEntity).findOneBy({ name });
    if (!group) throw notFound('gateway group', name);
    return group;
  }

  async groupById(id: string): Promise<GatewayGroupEntity> {
    const group = await this.db.getRepository(GatewayGroupEntity).findOneBy({ id });
    if (!group) throw notFound('gateway group', id);
    return group;
  }

  async createGroup(input: { name: string; description?: string | null }): Promise<GatewayGroupEntity> {
    const name = input.name?.trim() ?? '';
    if (!GROUP_NAME.test(name)) throw badInput('name must be 1 to 100 letters, digits, spaces, dots, dashes or underscores', { field: 'name' });
    try {
      return await this.db.getRepository(GatewayGroupEntity).save({ name, description: input.description ?? '' });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`gateway group ${name} already exists`, { field: 'name' });
      throw err;
    }
  }

  async updateGroup(name: string, changes: { name?: string | null; description?: string | null }): Promise<GatewayGroupEntity> {
    const group = await this.group(name);
    if (name === 'default' && changes.name && changes.name !== 'default') throw conflict('the default group cannot be renamed');
    const newName = changes.name?.trim() || group.name;
    if (!GROUP_NAME.test(newName)) throw badInput('name must be 1 to 100 letters, digits, spaces, dots, dashes or underscores', { field: 'name' });
    try {
      await this.db.getRepository(GatewayGroupEntity).update({ id: group.id }, { name: newName, description: changes.description ?? group.description });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`gateway group ${newName} already exists`, { field: 'name' });
      throw err;
    }
    return this.group(newName);
  }

  async deleteGroup(name: string): Promise<boolean> {
    if (name === 'default') throw conflict('the default group cannot be deleted');
    const group = await this.group(name);
    await this.db.getRepository(GatewayGroupEntity).delete({ id: group.id });
    return true;
  }

  // ---- instances ----

  async createInstanceToken(groupName: string): Promise<{ id: string; token: string }> {
    const group = await this.group(groupName);
    const token = `${GATEWAY_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const row = await this.db.getRepository(GatewayTokenEntity).save({ groupId: group.id, tokenHash: digest(token) });
    return { id: row.id, token };
  }

  /** The group a join token belongs to, or UNAUTHENTICATED. */
  async authenticateInstance(token: string): Promise<{ tokenId: string; group: string }> {
    const row = await this.db.getRepository(GatewayTokenEntity).findOne({ where: { tokenHash: digest(token) }, relations: { group: true } });
    if (!row || row.revokedAt) throw new AppError('UNAUTHENTICATED', 'gateway token is invalid or revoked');
    return { tokenId: row.id, group: row.group.name };
  }

  async heartbeat(groupName: string, instance: { id: string; hostname: string; revision: number }): Promise<void> {
    const group = await this.group(groupName);
    await this.db
      .createQueryBuilder()
      .insert()
      .into(GatewayInstanceEntity)
      .values({ id: instance.id, groupId: group.id, hostname: instance.hostname.slice(0, 255), lastSeen: new Date(), configRevision: instance.revision })
      .orUpdate(['group_id', 'hostname', 'last_seen', 'config_revision'], ['id'])
      .execute();
  }

  instances(groupIds: readonly string[]): Promise<GatewayInstanceEntity[]> {
    return this.db.getRepository(GatewayInstanceEntity).find({ where: { groupId: In([...groupIds]) }, order: { hostname: 'ASC' } });
  }

  // ---- services ----

  versions(groupIds: readonly string[]): Promise<ServiceVersionEntity[]> {
    return this.db.getRepository(ServiceVersionEntity).find({ where: { groupId: In([...groupIds]) }, order: { createdAt: 'ASC' } });
  }

  running(groupIds: readonly string[]): Promise<GroupServiceEntity[]> {
    return this.db.getRepository(GroupServiceEntity).find({ where: { groupId: In([...groupIds]) }, order: { serviceName: 'ASC' } });
  }

  async version(id: string): Promise<ServiceVersionEntity> {
    const row = isUuid(id) ? await this.db.getRepository(ServiceVersionEntity).findOneBy({ id }) : null;
    if (!row) throw notFound('service version', id);
    return row;
  }

  async publish(actor: AuthUser, input: { assetId: string; gatewayGroup: string; version?: string | null; upstream: UpstreamInput }): Promise<ServiceVersionEntity> {
    const asset = isUuid(input.assetId) ? await this.db.getRepository(AssetEntity).findOneBy({ id: input.assetId }) : null;
    if (!asset) throw notFound('asset', input.assetId);
    if (asset.type !== 'API') throw badInput('only APIs can be published as services', { field: 'assetId' });
    if (input.version && !VERSION.test(input.version)) throw badInput('version must look like 1.0.0', { field: 'version' });
    return this.db.transaction(async (tx) => {
      const group = await this.lockGroup(tx, input.gatewayGroup);
      const upstream = await this.upstream(tx, group, input.upstream);
      const existing = await tx.getRepository(ServiceVersionEntity).find({ select: { version: true }, where: { groupId: group.id, serviceName: asset.name } });
      const latest = existing.map((v) => v.version).sort(compareSemver).at(-1);
      const version = input.version ?? (latest ? nextPatch(latest) : (asset.version && VERSION.test(asset.version) ? asset.version : '1.0.0'));
      if (existing.some((v) => v.version === version)) throw conflict(`${asset.name} ${version} is already published in ${group.name}`, { field: 'version' });
      const row = await tx.getRepository(ServiceVersionEntity).save({
        groupId: group.id,
        serviceName: asset.name,
        assetId: asset.id,
        version,
        routes: routesOf(asset),
        upstream,
        syncedFrom: null,
        createdBy: actor.username,
      });
      await this.run(tx, group, row);
      return row;
    });
  }

  async rollbackService(serviceName: string, groupName: string, version: string): Promise<ServiceVersionEntity> {
    return this.db.transaction(async (tx) => {
      const group = await this.lockGroup(tx, groupName);
      const row = await tx.getRepository(ServiceVersionEntity).findOneBy({ groupId: group.id, serviceName, version });
      if (!row) throw notFound('service version', `${serviceName} ${version} in ${groupName}`);
      await this.run(tx, group, row);
      return row;
    });
  }

  /**
   * Copies a group's running version to another group with the same version number and the
   * upstream chosen now; then watches the target's online instances until they all run it.
   */
  async sync(actor: AuthUser, input: { serviceVersionId: string; targetGroup: string; upstream: UpstreamInput }): Promise<{ id: string; version: ServiceVersionEntity }> {
    const source = await this.version(input.serviceVersionId);
    const running = await this.db.getRepository(GroupServiceEntity).findOneBy({ groupId: source.groupId, serviceName: source.serviceName });
    if (running?.runningVersionId !== source.id) throw badInput('only the running version can be synced', { field: 'serviceVersionId' });
    const operationId = randomUUID();
    const copy = await this.db.transaction(async (tx) => {
      const target = await this.lockGroup(tx, input.targetGroup);
      if (target.id === source.groupId) throw badInput('the target group is the source group', { field: 'targetGroup' });
      const upstream = await this.upstream(tx, target, input.upstream);
      const same = await tx.getRepository(ServiceVersionEntity).findOneBy({ groupId: target.id, serviceName: source.serviceName, version: source.version });
      if (same) throw conflict(`${source.serviceName} ${source.version} already exists in ${target.name}`, { field: 'serviceVersionId' });
      const row = await tx.getRepository(ServiceVersionEntity).save({
        groupId: target.id,
        serviceName: source.serviceName,
        assetId: source.assetId,
        version: source.version,
        routes: source.routes,
        upstream,
        syncedFrom: source.id,
        createdBy: actor.username,
      });
      const revision = await this.run(tx, target, row);
      await appendEvent(tx, syncStream(operationId), 'PUBLISHED', {
        operationId,
        phase: 'PUBLISHED',
        message: `${source.serviceName} ${source.version} runs in ${target.name} at revision ${revision}`,
        revision,
        group: target.name,
      });
      return { row, revision, group: target };
    });
    void this.watchRollout(operationId, copy.group, copy.revision);
    return { id: operationId, version: copy.row };
  }

  /** Emits per-instance progress until every online instance of the group reports the revision. */
  private async watchRollout(operationId: string, group: GatewayGroupEntity, revision: number, timeoutMs = 120_000): Promise<void> {
    const started = Date.now();
    const reported = new Set<string>();
    try {
      for (;;) {
        const instances = (await this.instances([group.id])).filter((i) => Date.now() - i.lastSeen.getTime() < ONLINE_WINDOW_MS);
        const arrived = instances.filter((i) => i.configRevision >= revision && !reported.has(i.id));
        if (arrived.length) {
          // One transaction per poll, however many instances arrived in it.
          await this.db.transaction(async (tx) => {
            for (const i of arrived) {
              reported.add(i.id);
              await appendEvent(tx, syncStream(operationId), 'INSTANCE', {
                operationId,
                phase: 'INSTANCE',
                message: `${i.hostname} (${i.id}) runs revision ${i.configRevision}`,
                instanceId: i.id,
              });
            }
          });
        }
        if (instances.every((i) => i.configRevision >= revision)) {
          await appendEvent(this.db.manager, syncStream(operationId), 'COMPLETED', {
            operationId,
            phase: 'COMPLETED',
            message: `all ${instances.length} online instances of ${group.name} run revision ${revision}`,
          });
          return;
        }
        if (Date.now() - started > timeoutMs) {
          await appendEvent(this.db.manager, syncStream(operationId), 'FAILED', {
            operationId,
            phase: 'FAILED',
            message: `not every online instance of ${group.name} reached revision ${revision} within ${timeoutMs / 1000} s`,
          });
          return;
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    } catch (err) {
      this.log.error({ err, operationId }, 'sync rollout watch failed');
    }
  }

  /** Stored then live progress of a sync; an id no sync ever had is NOT_FOUND at once, not an endless wait. */
  async followSync(operationId: string, afterSequence: number) {
    if (!(await this.events.readAfter(syncStream(parseId('sync operation', operationId)), 0, 1)).length) throw notFound('sync operation', operationId);
    return this.events.follow(syncStream(operationId), afterSequence, { until: (e) => e.type === 'COMPLETED' || e.type === 'FAILED' });
  }

  // ---- registries ----

  async createRegistry(input: RegistryInput): Promise<ServiceRegistryEntity> {
    const group = await this.group(input.gatewayGroup);
    if (!/^[a-z0-9][a-z0-9-]{0,99}$/.test(input.name)) throw badInput('name must be lower-case letters, digits and dashes', { field: 'name' });
    if (input.type === 'DNS' ? !/^[^:/\s]+:\d{1,5}$/.test(input.address) : !/^https?:\/\/[^\s]+$/.test(input.address)) {
      throw badInput(input.type === 'DNS' ? 'address must be the resolver as host:port' : 'address must be an http(s) URL', { field: 'address' });
    }
    const refreshMs = input.refreshMs ?? 10_000;
    if (refreshMs < 500 || refreshMs > 3_600_000) throw badInput('refreshMs must be between 500 and 3600000', { field: 'refreshMs' });
    try {
      return await this.db.transaction(async (tx) => {
        const row = await tx.getRepository(ServiceRegistryEntity).save({
          groupId: group.id,
          name: input.name,
          type: input.type,
          address: input.address,
          sealedToken: input.token ? this.secrets.seal(input.token, `registry:${group.id}:${input.name}`) : null,
          refreshMs,
        });
        await this.bump(tx, group);
        return row;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`registry ${input.name} already exists in ${group.name}`, { field: 'name' });
      throw err;
    }
  }

  registries(groupName?: string | null): Promise<ServiceRegistryEntity[]> {
    return this.db.getRepository(ServiceRegistryEntity).find({
      where: groupName ? { group: { name: groupName } } : {},
      relations: { group: true },
      order: { name: 'ASC' },
    });
  }

  // ---- configuration ----

  /** The full snapshot the group's gateways run. */
  async config(groupName: string): Promise<GatewayConfig> {
    const group = await this.group(groupName);
    const running = await this.db.getRepository(GroupServiceEntity).find({ where: { groupId: group.id }, relations: { runningVersion: true } });
    const registries = new Map((await this.db.getRepository(ServiceRegistryEntity).findBy({ groupId: group.id })).map((r) => [r.name, r]));
    const services: ServiceConfig[] = running.map(({ runningVersion: v }) => {
      const registry = v.upstream.discovery ? registries.get(v.upstream.discovery.registry) : undefined;
      return {
        name: v.serviceName,
        version: v.version,
        serviceVersionId: v.id,
        routes: v.routes,
        upstream: {
          nodes: v.upstream.nodes,
          discovery:
            v.upstream.discovery && registry
              ? {
                  registry: {
                    name: registry.name,
                    type: registry.type,
                    address: registry.address,
                    token: registry.sealedToken ? this.secrets.open(registry.sealedToken, `registry:${group.id}:${registry.name}`) : null,
                    refreshMs: registry.refreshMs,
                  },
                  namespace: v.upstream.discovery.namespace,
                  serviceName: v.upstream.discovery.serviceName,
                }
              : null,
          scheme: 'http',
          timeoutMs: v.upstream.timeoutMs,
          retries: v.upstream.retries,
          passiveHealth: { failures: 3, ejectMs: 10_000 },
        },
      };
    });
    return { group: group.name, revision: group.revision, services };
  }

  /**
   * Snapshots now and after every change of the group, for one gateway connection. A Repeater,
   * so a gateway that disconnects releases its listener at once, not at the next change.
   */
  watchConfig(groupName: string): AsyncIterableIterator<GatewayConfig> {
    return new Repeater<GatewayConfig>(async (push, stop) => {
      const after = await this.events.latestSequence(gatewayStream(groupName));
      const changes = this.events.follow(gatewayStream(groupName), after);
      void stop.then(() => changes.return?.());
      await push(await this.config(groupName));
      for await (const _ of changes) await push(await this.config(groupName));
      stop();
    });
  }

  // ---- internals ----

  private async lockGroup(tx: EntityManager, name: string): Promise<GatewayGroupEntity> {
    const group = await tx.getRepository(GatewayGroupEntity).findOne({ where: { name }, lock: { mode: 'pessimistic_write' } });
    if (!group) throw notFound('gateway group', name);
    return group;
  }

  /** Makes `version` the running one of its service in `group`; returns the new revision. */
  private async run(tx: EntityManager, group: GatewayGroupEntity, version: ServiceVersionEntity): Promise<number> {
    await tx
      .createQueryBuilder()
      .insert()
      .into(GroupServiceEntity)
      .values({ groupId: group.id, serviceName: version.serviceName, runningVersionId: version.id })
      .orUpdate(['running_version_id'], ['group_id', 'service_name'])
      .execute();
    return this.bump(tx, group);
  }

  private async bump(tx: EntityManager, group: GatewayGroupEntity): Promise<number> {
    const revision = group.revision + 1;
    await tx.getRepository(GatewayGroupEntity).update({ id: group.id }, { revision });
    group.revision = revision;
    await appendEvent(tx, gatewayStream(group.name), 'CHANGED', { revision });
    return revision;
  }

  private async upstream(tx: EntityManager, group: GatewayGroupEntity, input: UpstreamInput): Promise<UpstreamSpec> {
    const hasNodes = !!input.nodes?.length;
    if (hasNodes === !!input.discovery) throw badInput('upstream needs either nodes or discovery', { field: 'upstream' });
    const timeoutMs = input.timeoutMs ?? 10_000;
    const retries = input.retries ?? 2;
    if (timeoutMs < 100 || timeoutMs > 300_000) throw badInput('timeoutMs must be between 100 and 300000', { field: 'upstream.timeoutMs' });
    if (retries < 0 || retries > 10) throw badInput('retries must be between 0 and 10', { field: 'upstream.retries' });
    if (hasNodes) {
      const nodes = input.nodes!.map((n) => ({ host: n.host.trim(), port: n.port, weight: n.weight ?? 1 }));
      for (const n of nodes) {
        if (!n.host || /[\s/]/.test(n.host)) throw badInput(`bad upstream host "${n.host}"`, { field: 'upstream.nodes' });
        if (!Number.isInteger(n.port) || n.port < 1 || n.port > 65535) throw badInput(`bad upstream port ${n.port}`, { field: 'upstream.nodes' });
        if (!Number.isInteger(n.weight) || n.weight < 1 || n.weight > 1000) throw badInput('weights must be 1 to 1000', { field: 'upstream.nodes' });
      }
      return { nodes, discovery: null, timeoutMs, retries };
    }
    const d = input.discovery!;
    const registry = await tx.getRepository(ServiceRegistryEntity).findOneBy({ groupId: group.id, name: d.registry });
    if (!registry) throw badInput(`no service registry ${d.registry} in group ${group.name}`, { field: 'upstream.discovery.registry' });
    if (!d.serviceName?.trim()) throw badInput('discovery needs a serviceName', { field: 'upstream.discovery.serviceName' });
    return { nodes: null, discovery: { registry: d.registry, namespace: d.namespace ?? null, serviceName: d.serviceName.trim() }, timeoutMs, retries };
  }
}
