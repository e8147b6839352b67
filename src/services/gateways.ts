/**
 * Gateway groups (API7 model): publish an API as a service version into a group, run one
 * version of each service at a time, roll back to an earlier one, and sync the running version
 * to another group. Every change bumps the group's revision and is announced on the stream
 * `gateway:<group>`, which the `gatewayConfig` subscription turns into fresh snapshots.
 */
import { displayNameProblem, slugOf } from '../domain/names.js';
import { isUniqueViolation } from '../db/errors.js';
import { isUuid, parseId } from '../db/ids.js';
import { Repeater } from '@repeaterjs/repeater';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { In, type DataSource, type EntityManager } from 'typeorm';
import type { GatewayConfig, RouteConfig, ServiceConfig } from '../dataplane/config.js';
import { AssetEntity } from '../entities/asset.js';
import {
  GatewayGroupEntity,
  GatewayInstanceEntity,
  GatewayTokenEntity,
  GatewayTokenTombstoneEntity,
  GroupServiceEntity,
  ServiceRegistryEntity,
  ServiceVersionEntity,
  type UpstreamSpec,
} from '../entities/gateway.js';
import { decideSync, type SyncDecision } from '../domain/gateway-sync.js';
import { INSTANCE_RETENTION_MS, isOnline, ONLINE_WINDOW_MS, tooManyInstancesMessage } from '../domain/gateway-instances.js';
import { AppError, badInput, conflict, notFound, tooManyRequests } from '../errors.js';
import { appendEvent, type EventLog } from '../events/event-log.js';
import { enqueueJob, LeaseLostError, type JobContext } from '../jobs/job-queue.js';
import type { Logger } from '../logger.js';
import type { SecretBox } from '../secrets.js';
import type { AuthUser } from './auth.js';
import { OutboundPolicy } from './outbound.js';

export const gatewayStream = (group: string) => `gateway:${group}`;
export const syncStream = (operationId: string) => `sync:${operationId}`;

export { ONLINE_WINDOW_MS };
export const GATEWAY_TOKEN_PREFIX = 'gwt_';
/** The durable job that follows a sync until the target's online instances run it. */
export const SYNC_ROLLOUT_JOB = 'gateway-sync-rollout';
/** How long a sync rollout may take before it is reported FAILED. */
export const ROLLOUT_TIMEOUT_MS = 120_000;
/** Every replica re-checks the credentials of its open sockets when this channel is notified. */
export const AUTH_CHANNEL = 'stagecraft_auth';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const VERSION = /^\d+\.\d+\.\d+$/;
/** A display name as typed (trimmed), or BAD_USER_INPUT naming `name`. */
function checkDisplayName(value: string | null | undefined): string {
  const name = value?.trim() ?? '';
  const problem = displayNameProblem(name);
  if (problem) throw badInput(`name ${problem}`, { field: 'name' });
  return name;
}
const digest = (token: string) => createHash('sha256').update(token).digest('hex');

export interface UpstreamInput {
  nodes?: { host: string; port: number; weight?: number | null }[] | null;
  discovery?: { registry: string; namespace?: string | null; serviceName: string } | null;
  timeoutMs?: number | null;
  retries?: number | null;
}

/**
 * The refusal of a join token whose group was deleted (see GatewayTokenTombstoneEntity): still
 * UNAUTHENTICATED, with `reason: GROUP_DELETED` so sockets close GROUP_DELETED_CLOSE and the
 * gateway stops instead of retrying.
 */
export const groupDeletedRefusal = (group: string) =>
  new AppError('UNAUTHENTICATED', `gateway group ${group} was deleted; its join tokens no longer count`, { reason: 'GROUP_DELETED', group });

export const isGroupDeletedRefusal = (err: unknown): err is AppError => err instanceof AppError && err.details.reason === 'GROUP_DELETED';

/** Who a gateway join token speaks for: one token of one group. */
export interface GatewayPrincipal {
  tokenId: string;
  groupId: string;
  group: string;
}

export type SyncAction = Exclude<SyncDecision['action'], 'REFUSED'>;

export interface SyncResult {
  /** Follow it with syncProgress. */
  id: string;
  action: SyncAction;
  message: string;
  /** The version that runs in the target group now. */
  version: ServiceVersionEntity;
  /** The target group's revision after the sync (unchanged for UNCHANGED). */
  revision: number;
}

/** One update of the configuration stream: a snapshot, or the news that the group is gone. */
export interface GatewayConfigEvent {
  config: GatewayConfig;
  deleted: boolean;
}

interface RolloutPayload {
  operationId: string;
  groupId: string;
  group: string;
  revision: number;
  /** Epoch ms: a resumed watch keeps the original deadline. */
  deadline: number;
}

export interface RegistryInput {
  gatewayGroup: string;
  name: string;
  type: 'DNS' | 'NACOS' | 'KUBERNETES';
  address: string;
  token?: string | null;
  refreshMs?: number | null;
}

/**
 * The shared contract for anything that may invalidate a credential: notify in the same
 * transaction, and every replica re-validates its open sockets once the change is committed.
 */
async function notifyCredentialsChanged(tx: EntityManager): Promise<void> {
  await tx.query(`SELECT pg_notify('${AUTH_CHANNEL}', '')`);
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
  /** Aborted when the process stops: background watches hand their jobs back. */
  private readonly background = new AbortController();

  constructor(
    private readonly db: DataSource,
    private readonly events: EventLog,
    private readonly secrets: SecretBox,
    private readonly log: Logger,
    private readonly outbound = new OutboundPolicy(),
    private readonly options: { instancesPerToken: number } = { instancesPerToken: 1000 },
  ) {}

  // ---- groups ----

  listGroups(): Promise<GatewayGroupEntity[]> {
    return this.db.getRepository(GatewayGroupEntity).find({ order: { name: 'ASC' } });
  }

  /** A group by its name or its slug. */
  async group(name: string, manager: EntityManager = this.db.manager): Promise<GatewayGroupEntity> {
    const group = await manager.getRepository(GatewayGroupEntity).findOne({ where: [{ name }, { slug: name }] });
    if (!group) throw notFound('gateway group', name);
    return group;
  }

  async createGroup(input: { name: string; description?: string | null }): Promise<GatewayGroupEntity> {
    const name = checkDisplayName(input.name);
    try {
      return await this.db.getRepository(GatewayGroupEntity).save({ name, slug: slugOf(name, 'group'), description: input.description ?? '' });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`gateway group ${name} (or one whose slug is ${slugOf(name, 'group')}) already exists`, { field: 'name' });
      throw err;
    }
  }

  async updateGroup(name: string, changes: { name?: string | null; description?: string | null }): Promise<GatewayGroupEntity> {
    const group = await this.group(name);
    if (name === 'default' && changes.name && changes.name !== 'default') throw conflict('the default group cannot be renamed');
    const newName = changes.name?.trim() ? checkDisplayName(changes.name) : group.name;
    try {
      await this.db.getRepository(GatewayGroupEntity).update({ id: group.id }, { name: newName, slug: slugOf(newName, 'group'), description: changes.description ?? group.description });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`gateway group ${newName} (or one whose slug is ${slugOf(newName, 'group')}) already exists`, { field: 'name' });
      throw err;
    }
    return this.group(newName);
  }

  /**
   * Deletes a group with its history, tokens and registries. Instances still ONLINE would keep
   * serving a group nobody manages, so that needs `force`; forced, they answer 503 from then on.
   * They learn it from whichever comes first: the DELETED update of their configuration stream,
   * or the close of their socket (GROUP_DELETED_CLOSE) when the credential re-check finds their
   * token's tombstone; an instance away at the time learns it when it reconnects.
   */
  async deleteGroup(name: string, force = false): Promise<boolean> {
    if (name === 'default') throw conflict('the default group cannot be deleted');
    await this.db.transaction(async (tx) => {
      const group = await this.lockGroup(tx, name);
      const online = (await tx.getRepository(GatewayInstanceEntity).find({ where: { groupId: group.id }, order: { hostname: 'ASC' } })).filter((i) => isOnline(i.lastSeen));
      if (online.length && !force) {
        const named = online.slice(0, 10).map((i) => `${i.hostname} (${i.id})`).join(', ') + (online.length > 10 ? ` and ${online.length - 10} more` : '');
        throw conflict(`gateway group ${name} has ${online.length} ONLINE instance${online.length > 1 ? 's' : ''}: ${named}; stop ${online.length > 1 ? 'them' : 'it'} first, or delete with force: true`, {
          instances: online.map((i) => ({ id: i.id, hostname: i.hostname })),
        });
      }
      await appendEvent(tx, gatewayStream(group.name), 'DELETED', { revision: group.revision });
      // Revoked tokens stay refused as such: only tokens that still counted learn of the deletion.
      await tx.query(
        `INSERT INTO gateway_token_tombstones (token_hash, group_name, deleted_at)
         SELECT token_hash, $2, now() FROM gateway_tokens WHERE group_id = $1 AND revoked_at IS NULL
         ON CONFLICT (token_hash) DO NOTHING`,
        [group.id, group.name],
      );
      await tx.getRepository(GatewayGroupEntity).delete({ id: group.id });
      // Its join tokens go with it: sockets authenticated by them must be re-checked.
      await notifyCredentialsChanged(tx);
    });
    return true;
  }

  // ---- instances ----

  async createInstanceToken(groupName: string): Promise<{ id: string; token: string }> {
    const group = await this.group(groupName);
    const token = `${GATEWAY_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const row = await this.db.getRepository(GatewayTokenEntity).save({ groupId: group.id, tokenHash: digest(token) });
    return { id: row.id, token };
  }

  /** The join tokens of a group, oldest first (the secret itself is never stored). */
  async instanceTokens(groupName: string): Promise<GatewayTokenEntity[]> {
    const group = await this.group(groupName);
    return this.db.getRepository(GatewayTokenEntity).find({ where: { groupId: group.id }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /**
   * Revokes a join token: it fails authentication from the next request on, and every replica is
   * told to re-check the sockets it authenticated (the shared `stagecraft_auth` notification, sent
   * with the commit). Revoking a revoked token changes nothing.
   */
  async revokeInstanceToken(id: string): Promise<GatewayTokenEntity> {
    if (!UUID.test(id)) throw badInput('id must be a gateway token id (a UUID)', { field: 'id' });
    return this.db.transaction(async (tx) => {
      const tokens = tx.getRepository(GatewayTokenEntity);
      const row = await tokens.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!row) throw notFound('gateway token', id);
      if (row.revokedAt) return row;
      row.revokedAt = new Date();
      await tokens.update({ id }, { revokedAt: row.revokedAt });
      await notifyCredentialsChanged(tx);
      return row;
    });
  }

  /**
   * The token's group, or UNAUTHENTICATED: unknown or revoked, or (groupDeletedRefusal) a token
   * of a deleted group. One statement: the tombstone is looked up beside the token.
   */
  async authenticateInstance(token: string): Promise<GatewayPrincipal> {
    const hash = digest(token);
    const [row]: { id: string | null; group_id: string | null; group_name: string | null; revoked: boolean | null; deleted_group: string | null }[] = await this.db.query(
      `SELECT t.id, t.group_id, g.name AS group_name, t.revoked_at IS NOT NULL AS revoked, d.group_name AS deleted_group
       FROM (SELECT $1::char(64) AS token_hash) k
       LEFT JOIN gateway_tokens t ON t.token_hash = k.token_hash
       LEFT JOIN gateway_groups g ON g.id = t.group_id
       LEFT JOIN gateway_token_tombstones d ON d.token_hash = k.token_hash`,
      [hash],
    );
    if (row?.deleted_group) throw groupDeletedRefusal(row.deleted_group);
    if (!row?.id || row.revoked || !row.group_name) throw new AppError('UNAUTHENTICATED', 'gateway token is invalid or revoked');
    return { tokenId: row.id, groupId: row.group_id!, group: row.group_name };
  }

  /**
   * Records that an instance is alive and which revision it runs. The instance is bound to the
   * token that first reported it: another token (of this group or another) is refused and moves
   * nothing. A revision the group never had is refused too. A token holds at most
   * `instancesPerToken` ONLINE instances: one more is TOO_MANY_REQUESTS and writes nothing.
   */
  async heartbeat(principal: GatewayPrincipal, instance: { id: string; hostname: string; revision: number }): Promise<void> {
    if (!UUID.test(instance.id)) throw badInput('instanceId must be a UUID', { field: 'instanceId' });
    const hostname = instance.hostname.trim();
    if (!hostname || hostname.length > 255 || /[\u0000-\u001f\u007f]/.test(hostname)) throw badInput('hostname must be 1 to 255 printable characters', { field: 'hostname' });
    const group = await this.db.getRepository(GatewayGroupEntity).findOneBy({ id: principal.groupId });
    if (!group) throw notFound('gateway group', principal.group);
    if (!Number.isInteger(instance.revision) || instance.revision < -1 || instance.revision > group.revision) {
      throw badInput(`revision must be between -1 (not configured yet) and the group's revision ${group.revision}`, { field: 'revision' });
    }
    // The steady state — an instance this token registered — is one statement.
    const [seen] = await this.db.query(
      `WITH beat AS (UPDATE gateway_instances SET hostname = $4, last_seen = now(), config_revision = $5 WHERE id = $1 AND group_id = $2 AND token_id = $3 RETURNING id) SELECT id FROM beat`,
      [instance.id, group.id, principal.tokenId, hostname, instance.revision],
    );
    if (seen) return;
    try {
      await this.db.transaction((tx) => this.register(tx, principal, group.id, { id: instance.id, hostname, revision: instance.revision }));
    } catch (err) {
      // The group (or the token) was deleted between the read above and the write.
      if ((err as { code?: string }).code === '23503') throw notFound('gateway group', principal.group);
      throw err;
    }
  }

  /**
   * A first heartbeat (or one for an instance another token holds): prunes the token's old
   * OFFLINE instances, applies the cap, then writes. Serialised per token, so concurrent new
   * instances cannot all slip under the cap.
   */
  private async register(tx: EntityManager, principal: GatewayPrincipal, groupId: string, instance: { id: string; hostname: string; revision: number }): Promise<void> {
    const cap = this.options.instancesPerToken;
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`gateway-token:${principal.tokenId}`]);
    await tx.query(
      `DELETE FROM gateway_instances WHERE token_id = $1 AND id <> $2 AND (last_seen < now() - make_interval(secs => $3 / 1000.0) OR id IN (
         SELECT id FROM gateway_instances WHERE token_id = $1 AND last_seen <= now() - make_interval(secs => $4 / 1000.0) ORDER BY last_seen DESC, id OFFSET $5))`,
      [principal.tokenId, instance.id, INSTANCE_RETENTION_MS, ONLINE_WINDOW_MS, cap],
    );
    const [{ online, known }]: { online: number; known: boolean }[] = await tx.query(
      `SELECT count(*) FILTER (WHERE token_id = $1 AND last_seen > now() - make_interval(secs => $3 / 1000.0))::int AS online, bool_or(id = $2) IS TRUE AS known
       FROM gateway_instances WHERE token_id = $1 OR id = $2`,
      [principal.tokenId, instance.id, ONLINE_WINDOW_MS],
    );
    if (!known && online >= cap) throw tooManyRequests(tooManyInstancesMessage(cap), { limit: cap });
    const rows: unknown[] = await tx.query(
      `INSERT INTO gateway_instances (id, group_id, token_id, hostname, last_seen, config_revision) VALUES ($1, $2, $3, $4, now(), $5)
       ON CONFLICT (id) DO UPDATE SET hostname = EXCLUDED.hostname, last_seen = EXCLUDED.last_seen, config_revision = EXCLUDED.config_revision, token_id = EXCLUDED.token_id
       WHERE gateway_instances.group_id = EXCLUDED.group_id AND (gateway_instances.token_id IS NULL OR gateway_instances.token_id = EXCLUDED.token_id)
       RETURNING id`,
      [instance.id, groupId, principal.tokenId, instance.hostname, instance.revision],
    );
    if (!rows.length) throw new AppError('FORBIDDEN', `gateway instance ${instance.id} is registered by another gateway token; start the instance again to get an id of its own`);
  }

  instances(groupIds: readonly string[]): Promise<GatewayInstanceEntity[]> {
    return this.db.getRepository(GatewayInstanceEntity).find({ where: { groupId: In([...groupIds]) }, order: { hostname: 'ASC', id: 'ASC' } });
  }

  instancesOfTokens(tokenIds: readonly string[]): Promise<GatewayInstanceEntity[]> {
    return this.db.getRepository(GatewayInstanceEntity).find({ where: { tokenId: In([...tokenIds]) }, order: { hostname: 'ASC', id: 'ASC' } });
  }

  /** One instance, token or registry by id, or null (for `node(id)`). */
  instanceById(id: string): Promise<GatewayInstanceEntity | null> {
    return this.db.getRepository(GatewayInstanceEntity).findOneBy({ id });
  }

  tokenById(id: string): Promise<GatewayTokenEntity | null> {
    return this.db.getRepository(GatewayTokenEntity).findOneBy({ id });
  }

  registryById(id: string): Promise<ServiceRegistryEntity | null> {
    return this.db.getRepository(ServiceRegistryEntity).findOne({ where: { id }, relations: { group: true } });
  }

  groupsByIds(ids: readonly string[]): Promise<GatewayGroupEntity[]> {
    return this.db.getRepository(GatewayGroupEntity).findBy({ id: In([...ids]) });
  }

  // ---- services ----

  versions(groupIds: readonly string[]): Promise<ServiceVersionEntity[]> {
    return this.db.getRepository(ServiceVersionEntity).find({ where: { groupId: In([...groupIds]) }, order: { createdAt: 'ASC', id: 'ASC' } });
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
      // A version re-synced with another upstream has several copies; the newest is the one meant.
      const row = await tx.getRepository(ServiceVersionEntity).findOne({ where: { groupId: group.id, serviceName, version }, order: { createdAt: 'DESC', id: 'DESC' } });
      if (!row) throw notFound('service version', `${serviceName} ${version} in ${groupName}`);
      await this.run(tx, group, row);
      return row;
    });
  }

  /**
   * Stops running a service in a group: its instances stop routing it at the next revision. The
   * versions stay as history (rollbackService runs one of them again).
   */
  async unpublish(serviceName: string, groupName: string): Promise<GatewayGroupEntity> {
    return this.db.transaction(async (tx) => {
      const group = await this.lockGroup(tx, groupName);
      const removed = await tx.getRepository(GroupServiceEntity).delete({ groupId: group.id, serviceName });
      if (!removed.affected) throw notFound('running service', `${serviceName} in ${groupName}`);
      await this.bump(tx, group);
      return group;
    });
  }

  /**
   * Copies a group's running version to another group with the same version number and the
   * upstream chosen now. Idempotent: the same sync again is UNCHANGED (no new revision); another
   * upstream makes a new copy and a new revision. A durable job then follows the target's
   * online instances until they all run it (see watchRollout).
   */
  async sync(actor: AuthUser, input: { serviceVersionId: string; targetGroup: string; upstream: UpstreamInput }): Promise<SyncResult> {
    const source = await this.version(input.serviceVersionId);
    const running = await this.db.getRepository(GroupServiceEntity).findOneBy({ groupId: source.groupId, serviceName: source.serviceName });
    if (running?.runningVersionId !== source.id) throw badInput('only the running version can be synced', { field: 'serviceVersionId' });
    const operationId = randomUUID();
    const label = `${source.serviceName} ${source.version}`;
    return this.db.transaction(async (tx) => {
      const target = await this.lockGroup(tx, input.targetGroup);
      if (target.id === source.groupId) throw badInput('the target group is the source group', { field: 'targetGroup' });
      const upstream = await this.upstream(tx, target, input.upstream);
      const copies = await tx.getRepository(ServiceVersionEntity).find({ where: { groupId: target.id, serviceName: source.serviceName, version: source.version }, order: { createdAt: 'ASC', id: 'ASC' } });
      const targetRunning = await tx.getRepository(GroupServiceEntity).findOneBy({ groupId: target.id, serviceName: source.serviceName });
      const decision = decideSync(source, copies, targetRunning?.runningVersionId ?? null, upstream);
      const stream = syncStream(operationId);

      if (decision.action === 'REFUSED') throw conflict(`${label}: ${decision.reason}`, { field: 'serviceVersionId' });
      if (decision.action === 'UNCHANGED') {
        const message = `${label} already runs in ${target.name} with the same upstream; nothing changed (revision ${target.revision})`;
        await appendEvent(tx, stream, 'COMPLETED', { operationId, phase: 'COMPLETED', message, group: target.name, revision: target.revision });
        return { id: operationId, action: 'UNCHANGED', message, version: decision.existing as ServiceVersionEntity, revision: target.revision };
      }

      const row =
        decision.action === 'REACTIVATED'
          ? (decision.existing as ServiceVersionEntity)
          : await tx.getRepository(ServiceVersionEntity).save({
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
      const message = {
        CREATED: `${label} runs in ${target.name} at revision ${revision}`,
        UPSTREAM_CHANGED: `${label} runs in ${target.name} with a new upstream at revision ${revision}`,
        REACTIVATED: `${label} runs again in ${target.name} (its earlier copy with this upstream) at revision ${revision}`,
      }[decision.action];
      await appendEvent(tx, stream, 'PUBLISHED', { operationId, phase: 'PUBLISHED', message, revision, group: target.name });
      const payload: RolloutPayload = { operationId, groupId: target.id, group: target.name, revision, deadline: Date.now() + ROLLOUT_TIMEOUT_MS };
      await enqueueJob(tx, SYNC_ROLLOUT_JOB, { ...payload });
      return { id: operationId, action: decision.action, message, version: row, revision };
    });
  }

  /**
   * The SYNC_ROLLOUT_JOB handler: emits one INSTANCE event per online instance that reaches the
   * revision, then COMPLETED, or FAILED at the deadline. It runs in the durable queue, so when
   * this process stops mid-rollout the job is handed back (stopBackgroundWork) and another
   * replica, or this one restarted, resumes it from the events already written, keeping the
   * original deadline. Every write goes through `job.transaction`, fenced by the job's lease: a
   * watch whose job another runner took over writes nothing more and stops (LeaseLostError).
   */
  async watchRollout(job: JobContext): Promise<void> {
    const p = job.payload as unknown as RolloutPayload;
    const stream = syncStream(p.operationId);
    const stop = AbortSignal.any([this.background.signal, job.signal]);
    for (;;) {
      if (job.signal.aborted) throw new LeaseLostError(job.id);
      if (this.background.signal.aborted) throw new Error(`sync rollout ${p.operationId} interrupted by shutdown; it resumes on the next replica to claim it`);
      const done = await job.transaction(async (tx) => {
        const written = await this.lockStream(tx, stream);
        if (written.some((e) => e.type === 'COMPLETED' || e.type === 'FAILED')) return true;
        const group = await tx.getRepository(GatewayGroupEntity).findOneBy({ id: p.groupId });
        if (!group) {
          await appendEvent(tx, stream, 'FAILED', { operationId: p.operationId, phase: 'FAILED', message: `gateway group ${p.group} was deleted during the rollout` });
          return true;
        }
        const reported = new Set(written.filter((e) => e.type === 'INSTANCE').map((e) => (e.payload as { instanceId?: string }).instanceId));
        const online = (await tx.getRepository(GatewayInstanceEntity).findBy({ groupId: p.groupId })).filter((i) => isOnline(i.lastSeen));
        for (const i of online.filter((i) => i.configRevision >= p.revision && !reported.has(i.id))) {
          await appendEvent(tx, stream, 'INSTANCE', { operationId: p.operationId, phase: 'INSTANCE', message: `${i.hostname} (${i.id}) runs revision ${i.configRevision}`, instanceId: i.id });
        }
        if (online.every((i) => i.configRevision >= p.revision)) {
          const message = `all ${online.length} online instance${online.length === 1 ? '' : 's'} of ${p.group} run revision ${p.revision}`;
          await appendEvent(tx, stream, 'COMPLETED', { operationId: p.operationId, phase: 'COMPLETED', message });
          return true;
        }
        if (Date.now() > p.deadline) {
          const late = online.filter((i) => i.configRevision < p.revision).map((i) => `${i.hostname} (${i.id})`);
          const message = `not every online instance of ${p.group} reached revision ${p.revision} within ${ROLLOUT_TIMEOUT_MS / 1000} s: ${late.join(', ')}`;
          await appendEvent(tx, stream, 'FAILED', { operationId: p.operationId, phase: 'FAILED', message });
          return true;
        }
        return false;
      });
      if (done) return;
      await sleep(300, undefined, { signal: stop }).catch(() => undefined);
    }
  }

  /** After the queue's last attempt: the operation ends FAILED rather than never (fenced like the watch). */
  async giveUpRollout(job: JobContext): Promise<void> {
    const p = job.payload as unknown as RolloutPayload;
    const stream = syncStream(p.operationId);
    await job.transaction(async (tx) => {
      const written = await this.lockStream(tx, stream);
      if (written.some((e) => e.type === 'COMPLETED' || e.type === 'FAILED')) return;
      await appendEvent(tx, stream, 'FAILED', { operationId: p.operationId, phase: 'FAILED', message: `the rollout watch of ${p.group} was given up after ${job.attempt} attempts` });
    });
  }

  /** Hands running rollout watches back to the queue; call before stopping the job runner. */
  stopBackgroundWork(): void {
    this.background.abort();
  }

  async followSync(operationId: string, afterSequence: number) {
    // Every operation writes its first event in the sync's own transaction: no event, no operation.
    if (!isUuid(operationId) || !(await this.events.latestSequence(syncStream(operationId)))) throw notFound('sync operation', operationId);
    return this.events.follow(syncStream(operationId), afterSequence, { until: (e) => e.type === 'COMPLETED' || e.type === 'FAILED' });
  }

  // ---- registries ----

  async createRegistry(input: RegistryInput): Promise<ServiceRegistryEntity> {
    const group = await this.group(input.gatewayGroup);
    const name = checkDisplayName(input.name);
    const slug = slugOf(name, 'registry');
    if (input.type === 'DNS' ? !/^[^:/\s]+:\d{1,5}$/.test(input.address) : !/^https?:\/\/[^\s]+$/.test(input.address)) {
      throw badInput(input.type === 'DNS' ? 'address must be the resolver as host:port' : 'address must be an http(s) URL', { field: 'address' });
    }
    if (input.type === 'DNS') this.outbound.resolverAddress(input.address.replace(/:\d+$/, ''), Number(input.address.split(':').pop()));
    else this.outbound.registryUrl(input.address);
    const refreshMs = input.refreshMs ?? 10_000;
    if (refreshMs < 500 || refreshMs > 3_600_000) throw badInput('refreshMs must be between 500 and 3600000', { field: 'refreshMs' });
    try {
      return await this.db.transaction(async (tx) => {
        const row = await tx.getRepository(ServiceRegistryEntity).save({
          groupId: group.id,
          name,
          slug,
          type: input.type,
          address: input.address,
          sealedToken: input.token ? this.secrets.seal(input.token, `registry:${group.id}:${name}`) : null,
          refreshMs,
        });
        await this.bump(tx, group);
        return row;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`registry ${name} (or one whose slug is ${slug}) already exists in ${group.name}`, { field: 'name' });
      throw err;
    }
  }

  registries(groupName?: string | null): Promise<ServiceRegistryEntity[]> {
    return this.db.getRepository(ServiceRegistryEntity).find({
      where: groupName ? [{ group: { name: groupName } }, { group: { slug: groupName } }] : {},
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
   * Snapshots now and after every change of the group, for one gateway connection; when the group
   * is deleted, one last update saying so, and the end of the stream. A Repeater, so a gateway that
   * disconnects releases its listener at once, not at the next change.
   */
  watchConfig(groupName: string): AsyncIterableIterator<GatewayConfigEvent> {
    return new Repeater<GatewayConfigEvent>(async (push, stop) => {
      const after = await this.events.latestSequence(gatewayStream(groupName));
      const changes = this.events.follow(gatewayStream(groupName), after);
      void stop.then(() => changes.return?.());
      const gone = (revision: number) => push({ config: { group: groupName, revision, services: [] }, deleted: true }).then(() => stop());
      const snapshot = async (): Promise<GatewayConfig | null> => {
        try {
          return await this.config(groupName);
        } catch (err) {
          if (err instanceof AppError && err.code === 'NOT_FOUND') return null;
          throw err;
        }
      };
      const first = await snapshot();
      if (!first) return gone(0);
      await push({ config: first, deleted: false });
      for await (const event of changes) {
        const next = event.type === 'DELETED' ? null : await snapshot();
        if (!next) return gone(Number((event.payload as { revision?: number }).revision ?? 0));
        await push({ config: next, deleted: false });
      }
      stop();
    });
  }

  // ---- internals ----

  /** Serialises writers of one event stream (two claims of one job, say) and returns what it holds. */
  private async lockStream(tx: EntityManager, stream: string) {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [stream]);
    const rows: { type: string; payload: Record<string, unknown> }[] = await tx.query('SELECT type, payload FROM events WHERE stream = $1 ORDER BY sequence', [stream]);
    return rows;
  }

  private async lockGroup(tx: EntityManager, name: string): Promise<GatewayGroupEntity> {
    const group = await tx.getRepository(GatewayGroupEntity).findOne({ where: [{ name }, { slug: name }], lock: { mode: 'pessimistic_write' } });
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
        this.outbound.upstreamNode(n.host, n.port);
      }
      return { nodes, discovery: null, timeoutMs, retries };
    }
    const d = input.discovery!;
    const registry = await tx.getRepository(ServiceRegistryEntity).findOne({ where: [{ groupId: group.id, name: d.registry }, { groupId: group.id, slug: d.registry }] });
    if (!registry) throw badInput(`no service registry ${d.registry} in group ${group.name}`, { field: 'upstream.discovery.registry' });
    if (!d.serviceName?.trim()) throw badInput('discovery needs a serviceName', { field: 'upstream.discovery.serviceName' });
    // Stored under its display name, whichever form the caller used.
    return { nodes: null, discovery: { registry: registry.name, namespace: d.namespace ?? null, serviceName: d.serviceName.trim() }, timeoutMs, retries };
  }
}
