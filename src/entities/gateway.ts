import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn, Unique, UpdateDateColumn, type Relation } from 'typeorm';
import type { RouteConfig } from '../dataplane/config.js';

/** A set of gateway instances that run the same configuration (API7's gateway group). */
@Entity('gateway_groups')
export class GatewayGroupEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** The display name, as typed ("Production Group"). */
  @Column({ type: 'varchar', length: 100, unique: true })
  name!: string;

  /** The name's URL/key form ("production-group"); lookups by name accept it too. */
  @Column({ type: 'varchar', length: 100, unique: true })
  slug!: string;

  @Column({ type: 'text', default: '' })
  description!: string;

  /** Grows with every change of the group's configuration. */
  @Column({ type: 'int', default: 0 })
  revision!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** A token gateway instances join a group with; stored as a SHA-256 digest. */
@Entity('gateway_tokens')
export class GatewayTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index('idx_gateway_tokens_group')
  @Column({ name: 'group_id', type: 'uuid' })
  groupId!: string;

  @ManyToOne(() => GatewayGroupEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id' })
  group!: Relation<GatewayGroupEntity>;

  @Column({ name: 'token_hash', type: 'char', length: 64, unique: true })
  tokenHash!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}

/**
 * What is left of a join token whose group was deleted: its digest and the group's name. A
 * gateway presenting it (on its open socket, or when it reconnects, however long it was away)
 * learns that its group is gone, not merely that its token stopped counting, and stops serving.
 * Kept for good: one small row per token, and nothing else refers to it.
 */
@Entity('gateway_token_tombstones')
export class GatewayTokenTombstoneEntity {
  @PrimaryColumn({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash!: string;

  @Column({ name: 'group_name', type: 'varchar', length: 100 })
  groupName!: string;

  @Column({ name: 'deleted_at', type: 'timestamptz' })
  deletedAt!: Date;
}

/** A running gateway instance, as its heartbeats report it. */
@Entity('gateway_instances')
export class GatewayInstanceEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Index('idx_gateway_instances_group')
  @Column({ name: 'group_id', type: 'uuid' })
  groupId!: string;

  @ManyToOne(() => GatewayGroupEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id' })
  group!: Relation<GatewayGroupEntity>;

  @Column({ type: 'varchar', length: 255 })
  hostname!: string;

  @Column({ name: 'last_seen', type: 'timestamptz' })
  lastSeen!: Date;

  @Column({ name: 'config_revision', type: 'int' })
  configRevision!: number;

  /** The join token that registered the instance: only that token may heartbeat for it. */
  @Index('idx_gateway_instances_token')
  @Column({ name: 'token_id', type: 'uuid', nullable: true })
  tokenId!: string | null;

  @ManyToOne(() => GatewayTokenEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'token_id' })
  token!: Relation<GatewayTokenEntity> | null;
}

/** How a service version reaches its upstream: fixed nodes, or a registry lookup. */
export interface UpstreamSpec {
  nodes: { host: string; port: number; weight: number }[] | null;
  discovery: { registry: string; namespace: string | null; serviceName: string } | null;
  timeoutMs: number;
  retries: number;
}

/**
 * One published version of a service (an API) in a group. A version number may appear more than
 * once in a group: re-syncing it with another upstream adds a copy and keeps the earlier one as
 * history (the newest copy is the one that runs).
 */
@Entity('service_versions')
@Index('idx_service_versions_version', ['groupId', 'serviceName', 'version'])
export class ServiceVersionEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'group_id', type: 'uuid' })
  groupId!: string;

  @ManyToOne(() => GatewayGroupEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id' })
  group!: Relation<GatewayGroupEntity>;

  @Column({ name: 'service_name', type: 'varchar', length: 200 })
  serviceName!: string;

  /** The API asset it was published from. */
  @Column({ name: 'asset_id', type: 'uuid' })
  assetId!: string;

  @Column({ type: 'varchar', length: 40 })
  version!: string;

  @Column({ type: 'jsonb' })
  routes!: RouteConfig[];

  @Column({ type: 'jsonb' })
  upstream!: UpstreamSpec;

  /** The version of another group this one was synced from. */
  @Column({ name: 'synced_from', type: 'uuid', nullable: true })
  syncedFrom!: string | null;

  @Column({ name: 'created_by', type: 'varchar', length: 64 })
  createdBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

/** Which version of each service a group runs (one at a time). */
@Entity('group_services')
export class GroupServiceEntity {
  @PrimaryColumn({ name: 'group_id', type: 'uuid' })
  groupId!: string;

  @PrimaryColumn({ name: 'service_name', type: 'varchar', length: 200 })
  serviceName!: string;

  @ManyToOne(() => GatewayGroupEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id' })
  group!: Relation<GatewayGroupEntity>;

  @Column({ name: 'running_version_id', type: 'uuid' })
  runningVersionId!: string;

  @ManyToOne(() => ServiceVersionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'running_version_id' })
  runningVersion!: Relation<ServiceVersionEntity>;
}

/** A service registry the group's gateways look upstream nodes up in. */
@Entity('service_registries')
@Unique('uq_service_registries_name', ['groupId', 'name'])
@Unique('uq_service_registries_slug', ['groupId', 'slug'])
export class ServiceRegistryEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'group_id', type: 'uuid' })
  groupId!: string;

  @ManyToOne(() => GatewayGroupEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id' })
  group!: Relation<GatewayGroupEntity>;

  /** The display name, as typed ("Registry for Test"). */
  @Column({ type: 'varchar', length: 100 })
  name!: string;

  /** The name's URL/key form, unique in the group; upstreams may name the registry by either. */
  @Column({ type: 'varchar', length: 100 })
  slug!: string;

  @Column({ type: 'varchar', length: 12 })
  type!: 'DNS' | 'NACOS' | 'KUBERNETES';

  @Column({ type: 'varchar', length: 500 })
  address!: string;

  /** Sealed with the instance key. */
  @Column({ name: 'sealed_token', type: 'text', nullable: true })
  sealedToken!: string | null;

  @Column({ name: 'refresh_ms', type: 'int', default: 10000 })
  refreshMs!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
