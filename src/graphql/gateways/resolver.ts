import { NodeInterface } from '../node.js';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Arg, Ctx, Field, FieldResolver, ID, InputType, Int, Mutation, ObjectType, Query, registerEnumType, Resolver, Root, Subscription } from 'type-graphql';
import { requireId } from '../../db/ids.js';
import type { GatewayConfig } from '../../dataplane/config.js';
import { isOnline } from '../../domain/gateway-instances.js';
import type { GatewayGroupEntity, GatewayInstanceEntity, GatewayTokenEntity, ServiceRegistryEntity, ServiceVersionEntity } from '../../entities/gateway.js';
import { AppError, notFound } from '../../errors.js';
import type { StoredEvent } from '../../events/event-log.js';
import type { AuthUser } from '../../services/auth.js';
import type { GatewayConfigEvent, SyncAction } from '../../services/gateways.js';
import type { Context } from '../context.js';
import { CurrentUser, Requires } from '../guard.js';
import { KeyedById } from '../subgraph/key.js';

@ObjectType({ description: 'A route a gateway group serves for a service version.' })
class RouteInfo {
  @Field(() => [String], { description: 'HTTP methods it matches.' }) methods!: string[];
  @Field(() => [String], { description: 'Paths it matches.' }) paths!: string[];
  @Field(() => String, { nullable: true, description: 'Host the route is bound to; null = any.' }) host!: string | null;
}

@KeyedById()
@ObjectType({ implements: NodeInterface, description: 'A gateway group: instances that run the same configuration.' })
export class GatewayGroup {
  @Field(() => ID, { description: 'The group’s id.' }) id!: string;
  @Field({ description: 'The name as typed; spaces allowed.' }) name!: string;
  @Field({ description: 'The name’s URL/key form (lower-case, digits, dashes); gatewayGroup(name) accepts it too.' }) slug!: string;
  @Field({ description: 'Free text.' }) description!: string;
  @Field(() => Int, { description: 'Grows with every configuration change.' }) revision!: number;
}

@KeyedById()
@ObjectType({ implements: NodeInterface, description: 'A published version of a service (an API) in a gateway group.' })
export class ServiceVersion {
  @Field(() => ID, { description: 'The version’s id.' }) id!: string;
  @Field({ description: 'Its version number, e.g. 1.0.1 (kept by a sync).' }) version!: string;
  @Field({ description: 'The service (API) name.' }) serviceName!: string;
  @Field(() => ID, { description: 'The API asset this is a version of.' }) assetId!: string;
  @Field(() => [RouteInfo], { description: 'The routes it serves.' }) routes!: RouteInfo[];
  @Field(() => GraphQLJSONObject, { description: 'nodes or discovery, timeoutMs, retries.' }) upstream!: Record<string, unknown>;
  @Field(() => ID, { nullable: true, description: 'The version of another group this was synced from.' }) syncedFrom!: string | null;
  @Field({ description: 'Who published or synced it.' }) createdBy!: string;
  @Field({ description: 'When it was published or synced.' }) createdAt!: Date;
  groupId!: string;
}

@ObjectType({ description: 'A service a gateway group runs, with the version it runs.' })
class GroupService {
  @Field({ description: 'The service (API) name.' }) name!: string;
  @Field(() => ServiceVersion, { description: 'The version the group runs now.' }) runningVersion!: ServiceVersionEntity;
  @Field(() => [ServiceVersion], { description: 'Every version published in this group, oldest first.' }) versions!: ServiceVersionEntity[];
}

@ObjectType({ implements: NodeInterface, description: 'A gateway instance (data plane) of a group, as its heartbeats report it.' })
export class GatewayInstance {
  @Field(() => ID, { description: 'The instance’s id (chosen by the instance).' }) id!: string;
  @Field({ description: 'The instance’s host name.' }) hostname!: string;
  @Field({ description: 'ONLINE while heartbeats are fresh, else OFFLINE.' }) status!: string;
  @Field({ description: 'When its last heartbeat arrived.' }) lastSeen!: Date;
  @Field(() => Int, { description: 'The group revision the instance runs.' }) configRevision!: number;
}

@ObjectType({ description: 'A new join token of a gateway group; its secret is shown only here.' })
class CreatedGatewayToken {
  @Field(() => ID, { description: 'The token’s id, to revoke it.' }) id!: string;
  @Field({ description: 'Shown once: give it to `stagecraft gateway --token`.' }) token!: string;
}

const syncActions = { CREATED: 'CREATED', UPSTREAM_CHANGED: 'UPSTREAM_CHANGED', REACTIVATED: 'REACTIVATED', UNCHANGED: 'UNCHANGED' } as const satisfies Record<SyncAction, SyncAction>;
registerEnumType(syncActions, {
  name: 'SyncAction',
  description: 'What a sync did in the target group.',
  valuesConfig: {
    CREATED: { description: 'The version was copied into the group, which runs it at a new revision.' },
    UPSTREAM_CHANGED: { description: 'The group had this version with another upstream: a new copy with the new upstream runs at a new revision (the earlier copy stays as history).' },
    REACTIVATED: { description: 'The group held this exact copy without running it: it runs again at a new revision.' },
    UNCHANGED: { description: 'The group already runs this version with the same upstream: nothing written, no new revision.' },
  },
});

@ObjectType({ description: 'A sync of a service version into another gateway group.' })
class SyncOperation {
  @Field(() => ID, { description: 'Follow it with syncProgress.' }) id!: string;
  @Field(() => syncActions, { description: 'What the sync did in the target group.' }) action!: SyncAction;
  @Field({ description: 'What happened, in words.' }) message!: string;
  @Field(() => ServiceVersion, { description: 'The version the target group runs now.' }) serviceVersion!: ServiceVersionEntity;
  @Field(() => Int, { description: 'The target group’s revision after the sync.' }) revision!: number;
}

@ObjectType({ implements: NodeInterface, description: 'A join token of a gateway group. The secret is shown only when created.' })
export class GatewayInstanceToken {
  @Field(() => ID, { description: 'The token’s id.' }) id!: string;
  @Field({ description: 'When the token was created.' }) createdAt!: Date;
  @Field(() => Date, { nullable: true, description: 'Set once revoked: the token no longer authenticates.' }) revokedAt!: Date | null;
  groupId!: string;
}

@ObjectType({ description: 'A step of a sync, until the target group’s instances run it.' })
class SyncProgressEvent {
  @Field(() => Int, { description: 'Position in the operation’s events; resume after it with afterSequence.' }) sequence!: number;
  @Field(() => ID, { description: 'The sync operation.' }) operationId!: string;
  @Field({ description: 'PUBLISHED, INSTANCE, COMPLETED or FAILED' }) phase!: string;
  @Field({ description: 'What happened, in words.' }) message!: string;
  @Field({ description: 'When it happened.' }) at!: Date;
}

@ObjectType({ implements: NodeInterface, description: 'Where a gateway group’s instances discover upstream nodes.' })
export class ServiceRegistry {
  @Field(() => ID, { description: 'The registry’s id.' }) id!: string;
  @Field({ description: 'The name as typed, e.g. "Registry for Test".' }) name!: string;
  @Field({ description: 'The name’s URL/key form, unique in its group; an upstream may name the registry by either.' }) slug!: string;
  @Field({ description: 'DNS, NACOS or KUBERNETES' }) type!: string;
  @Field({ description: 'Where the registry answers.' }) address!: string;
  @Field(() => Int, { description: 'How often instances re-read it, in milliseconds.' }) refreshMs!: number;
  @Field({ description: 'The group that uses it.' }) gatewayGroup!: string;
}

@ObjectType({ description: 'The configuration a gateway group runs, as its instances receive it.' })
class GatewayConfigUpdate {
  @Field({ description: 'The gateway group’s name.' }) group!: string;
  @Field(() => Int, { description: 'The group’s revision this configuration is.' }) revision!: number;
  @Field({ description: 'True in the last update of a group that was deleted: its instances stop serving (503).' }) deleted!: boolean;
  @Field(() => GraphQLJSONObject, { description: 'The full configuration: services, routes and upstreams.' }) config!: GatewayConfig;
}

@InputType({ description: 'A new gateway group.' })
class CreateGatewayGroupInput {
  @Field({ description: 'The group’s name (unique).' }) name!: string;
  @Field(() => String, { nullable: true, description: 'Free text.' }) description?: string | null;
}

@InputType({ description: 'Fields of a gateway group to change.' })
class UpdateGatewayGroupInput {
  @Field(() => String, { nullable: true, description: 'New name.' }) name?: string | null;
  @Field(() => String, { nullable: true, description: 'New description.' }) description?: string | null;
}

@InputType({ description: 'One upstream node.' })
class UpstreamNodeInput {
  @Field({ description: 'Host name or address.' }) host!: string;
  @Field(() => Int, { description: 'TCP port.' }) port!: number;
  @Field(() => Int, { nullable: true, defaultValue: 1, description: 'Share of the traffic relative to the other nodes.' }) weight?: number | null;
}

@InputType({ description: 'Upstream nodes found through a service registry instead of listed.' })
class DiscoveryInput {
  @Field({ description: 'A service registry of the group.' }) registry!: string;
  @Field(() => String, { nullable: true, description: 'The registry namespace the service is in.' }) namespace?: string | null;
  @Field({ description: 'The service’s name in the registry.' }) serviceName!: string;
}

@InputType({ description: 'Either nodes or discovery.' })
class UpstreamInput {
  @Field(() => [UpstreamNodeInput], { nullable: true, description: 'The nodes to send traffic to (instead of discovery).' }) nodes?: UpstreamNodeInput[] | null;
  @Field(() => DiscoveryInput, { nullable: true, description: 'Find the nodes in a service registry (instead of nodes).' }) discovery?: DiscoveryInput | null;
  @Field(() => Int, { nullable: true, description: 'How long a request to a node may take, in milliseconds.' }) timeoutMs?: number | null;
  @Field(() => Int, { nullable: true, description: 'How often a failed request is retried on another node.' }) retries?: number | null;
}

@InputType({ description: 'An API to publish as a new service version in a gateway group.' })
class PublishServiceInput {
  @Field(() => ID, { description: 'An API asset.' }) assetId!: string;
  @Field({ description: 'The group to publish to.' }) gatewayGroup!: string;
  @Field(() => String, { nullable: true, description: 'Next patch version when omitted.' }) version?: string | null;
  @Field(() => UpstreamInput, { description: 'Where the group sends the service’s traffic.' }) upstream!: UpstreamInput;
}

@InputType({ description: 'A running service version to copy into another gateway group.' })
class SyncServiceVersionInput {
  @Field(() => ID, { description: 'The running version of a service in its group.' }) serviceVersionId!: string;
  @Field({ description: 'The group to copy it into.' }) targetGroup!: string;
  @Field(() => UpstreamInput, { description: 'The upstream in the target group.' }) upstream!: UpstreamInput;
}

@InputType({ description: 'A new service registry for a gateway group.' })
class CreateServiceRegistryInput {
  @Field({ description: 'The gateway group whose instances use it.' }) gatewayGroup!: string;
  @Field({ description: 'The registry’s name (unique in the group).' }) name!: string;
  @Field({ description: 'DNS, NACOS or KUBERNETES' }) type!: string;
  @Field({ description: 'DNS: resolver host:port. NACOS / KUBERNETES: base URL.' }) address!: string;
  @Field(() => String, { nullable: true, description: 'Bearer token (write-only, stored encrypted).' }) token?: string | null;
  @Field(() => Int, { nullable: true, description: 'How often instances re-read the registry, in milliseconds.' }) refreshMs?: number | null;
}

export const asRegistry = (r: ServiceRegistryEntity & { group?: GatewayGroupEntity }): ServiceRegistry => ({
  id: r.id,
  name: r.name,
  slug: r.slug,
  type: r.type,
  address: r.address,
  refreshMs: r.refreshMs,
  gatewayGroup: r.group?.name ?? '',
});

export const asInstance = (i: GatewayInstanceEntity): GatewayInstance => ({ ...i, status: isOnline(i.lastSeen) ? 'ONLINE' : 'OFFLINE' });

@Resolver(() => GatewayGroup)
export class GatewayGroupResolver {
  @Requires()
  @Query(() => [GatewayGroup], { description: 'Every gateway group.' })
  gatewayGroups(@Ctx() { services }: Context): Promise<GatewayGroupEntity[]> {
    return services.gateways.listGroups();
  }

  @Requires()
  @Query(() => GatewayGroup, { description: 'One gateway group by name.' })
  gatewayGroup(@Arg('name', { description: 'The group’s name.' }) name: string, @Ctx() { services }: Context): Promise<GatewayGroupEntity> {
    return services.gateways.group(name);
  }

  @Requires()
  @Query(() => [ServiceRegistry], { description: 'Service registries, of one gateway group or all.' })
  async serviceRegistries(@Arg('gatewayGroup', () => String, { nullable: true, description: 'Only this group’s; null = every group’s.' }) group: string | null, @Ctx() { services }: Context): Promise<ServiceRegistry[]> {
    return (await services.gateways.registries(group)).map(asRegistry);
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Mutation(() => GatewayGroup, { description: 'Creates a gateway group.' })
  createGatewayGroup(@Arg('input', { description: 'The new group.' }) input: CreateGatewayGroupInput, @Ctx() { services }: Context): Promise<GatewayGroupEntity> {
    return services.gateways.createGroup(input);
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Mutation(() => GatewayGroup, { description: 'Renames a gateway group or changes its description.' })
  updateGatewayGroup(@Arg('name', { description: 'The group’s name.' }) name: string, @Arg('input', { description: 'The fields to change.' }) input: UpdateGatewayGroupInput, @Ctx() { services }: Context): Promise<GatewayGroupEntity> {
    return services.gateways.updateGroup(name, input);
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Mutation(() => Boolean, { description: 'CONFLICT while the group has ONLINE instances, unless force (they then answer 503).' })
  deleteGatewayGroup(
    @Arg('name', { description: 'The group’s name.' }) name: string,
    @Arg('force', () => Boolean, { defaultValue: false, description: 'Delete even with ONLINE instances.' }) force: boolean,
    @Ctx() { services }: Context,
  ): Promise<boolean> {
    return services.gateways.deleteGroup(name, force);
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Query(() => [GatewayInstanceToken], { description: 'The join tokens of a group, oldest first (never their secret).' })
  gatewayInstanceTokens(@Arg('gatewayGroup', { description: 'The group’s name.' }) gatewayGroup: string, @Ctx() { services }: Context): Promise<GatewayTokenEntity[]> {
    return services.gateways.instanceTokens(gatewayGroup);
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Mutation(() => GatewayInstanceToken, { description: 'Revokes a join token at once; sockets it opened are closed.' })
  revokeGatewayInstanceToken(@Arg('id', () => ID, { description: 'The token’s id.' }) id: string, @Ctx() { services }: Context): Promise<GatewayTokenEntity> {
    return services.gateways.revokeInstanceToken(id);
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Mutation(() => GatewayGroup, { description: 'Stops running a service in a group (its versions stay as history); instances stop routing it.' })
  unpublishService(@Arg('service', { description: 'The service (API) name.' }) service: string, @Arg('gatewayGroup', { description: 'The gateway group.' }) gatewayGroup: string, @Ctx() { services }: Context): Promise<GatewayGroupEntity> {
    return services.gateways.unpublish(service, gatewayGroup);
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Mutation(() => CreatedGatewayToken, { description: 'A join token for gateway instances of the group.' })
  createGatewayInstanceToken(@Arg('gatewayGroup', { description: 'The group the token joins.' }) gatewayGroup: string, @Ctx() { services }: Context): Promise<CreatedGatewayToken> {
    return services.gateways.createInstanceToken(gatewayGroup);
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Mutation(() => ServiceVersion, { description: 'Publishes an API as a new service version in a group and runs it.' })
  publishService(@Arg('input', { description: 'The API, the group and the upstream.' }) input: PublishServiceInput, @CurrentUser() user: AuthUser, @Ctx() { services }: Context): Promise<ServiceVersionEntity> {
    return services.gateways.publish(user, input);
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Mutation(() => ServiceVersion, { description: 'Runs an earlier version of a service again.' })
  rollbackService(
    @Arg('service', { description: 'The service (API) name.' }) service: string,
    @Arg('gatewayGroup', { description: 'The gateway group.' }) gatewayGroup: string,
    @Arg('version', { description: 'The earlier version to run again.' }) version: string,
    @Ctx() { services }: Context,
  ): Promise<ServiceVersionEntity> {
    return services.gateways.rollbackService(service, gatewayGroup, version);
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Mutation(() => SyncOperation, {
    description: 'Copies the running version to another group, same version number, with the upstream given; safe to repeat (UNCHANGED). Follow with syncProgress.',
  })
  async syncServiceVersion(@Arg('input', { description: 'The version, the target group and its upstream.' }) input: SyncServiceVersionInput, @CurrentUser() user: AuthUser, @Ctx() { services }: Context): Promise<SyncOperation> {
    const { id, action, message, version, revision } = await services.gateways.sync(user, input);
    return { id, action, message, serviceVersion: version, revision };
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Mutation(() => ServiceRegistry, { description: 'Creates a service registry for a gateway group.' })
  async createServiceRegistry(@Arg('input', { description: 'The new registry.' }) input: CreateServiceRegistryInput, @Ctx() { services }: Context): Promise<ServiceRegistry> {
    if (!['DNS', 'NACOS', 'KUBERNETES'].includes(input.type)) throw new AppError('BAD_USER_INPUT', 'type must be DNS, NACOS or KUBERNETES', { field: 'type' });
    const row = await services.gateways.createRegistry({ ...input, type: input.type as 'DNS' | 'NACOS' | 'KUBERNETES' });
    return { id: row.id, name: row.name, slug: row.slug, type: row.type, address: row.address, refreshMs: row.refreshMs, gatewayGroup: input.gatewayGroup };
  }

  @Requires('GATEWAY_AGENT')
  @Mutation(() => Boolean, { description: 'Gateway instances report they are alive and which revision they run.' })
  async gatewayHeartbeat(
    @Arg('instanceId', () => ID, { description: 'The instance’s id (chosen by the instance, stable across restarts).' }) instanceId: string,
    @Arg('hostname', { description: 'The instance’s host name.' }) hostname: string,
    @Arg('revision', () => Int, { description: 'The group revision the instance runs.' }) revision: number,
    @Ctx() { services, gateway }: Context,
  ): Promise<boolean> {
    if (!gateway) throw new AppError('FORBIDDEN', 'only gateway instance tokens send heartbeats');
    await services.gateways.heartbeat(gateway, { id: requireId('instanceId', instanceId), hostname, revision });
    return true;
  }

  @Requires('GATEWAY_AGENT')
  @Subscription(() => GatewayConfigUpdate, {
    description: 'For gateway instances: the group’s full configuration now, and again after every change.',
    subscribe: async ({ args, context }) => {
      const { gateway, services } = context as Context;
      if (gateway?.group !== args.group) throw new AppError('FORBIDDEN', `this gateway token belongs to group ${gateway?.group}`);
      return services.gateways.watchConfig(args.group as string);
    },
  })
  gatewayConfig(@Root() { config, deleted }: GatewayConfigEvent, @Arg('group', { description: 'The gateway group.' }) _group: string): GatewayConfigUpdate {
    return { group: config.group, revision: config.revision, deleted, config };
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Subscription(() => SyncProgressEvent, {
    description: 'Progress of a sync until the target group’s online instances run the new revision.',
    subscribe: ({ args, context }) => (context as Context).services.gateways.followSync(args.operationId as string, (args.afterSequence as number | null) ?? 0),
  })
  syncProgress(
    @Root() event: StoredEvent,
    @Arg('operationId', () => ID, { description: 'The sync operation (from syncServiceVersion).' }) _operationId: string,
    @Arg('afterSequence', () => Int, { nullable: true, defaultValue: 0, description: 'Replay stored events after this one first.' }) _afterSequence: number | null,
  ): SyncProgressEvent {
    const p = event.payload as { operationId: string; phase: string; message: string };
    return { sequence: event.sequence, operationId: p.operationId, phase: p.phase, message: p.message, at: event.createdAt };
  }

  @FieldResolver(() => [GroupService], { description: 'The services the group runs now.' })
  async services(@Root() group: GatewayGroupEntity, @Ctx() { loaders }: Context): Promise<GroupService[]> {
    const [running, versions] = await Promise.all([loaders.gateways.runningOfGroup.load(group.id), loaders.gateways.versionsOfGroup.load(group.id)]);
    return running.map((r) => ({
      name: r.serviceName,
      runningVersion: versions.find((v) => v.id === r.runningVersionId)!,
      versions: versions.filter((v) => v.serviceName === r.serviceName),
    }));
  }

  @FieldResolver(() => [ServiceVersion], { description: 'Every version published or synced into the group, oldest first, unpublished services included.' })
  async serviceVersions(
    @Root() group: GatewayGroupEntity,
    @Arg('service', () => String, { nullable: true, description: 'Only this service.' }) service: string | null | undefined,
    @Ctx() { loaders }: Context,
  ): Promise<ServiceVersionEntity[]> {
    const versions = await loaders.gateways.versionsOfGroup.load(group.id);
    return service == null ? versions : versions.filter((v) => v.serviceName === service);
  }

  @FieldResolver(() => [GatewayInstance], { description: 'Gateway instances that have joined the group, online and recently offline.' })
  async instances(@Root() group: GatewayGroupEntity, @Ctx() { loaders }: Context): Promise<GatewayInstance[]> {
    return (await loaders.gateways.instancesOfGroup.load(group.id)).map(asInstance);
  }
}

@Resolver(() => GatewayInstanceToken)
export class GatewayInstanceTokenResolver {
  @FieldResolver(() => [GatewayInstance], { description: 'The instances registered with this token.' })
  async instances(@Root() token: GatewayTokenEntity, @Ctx() { loaders }: Context): Promise<GatewayInstance[]> {
    return (await loaders.gateways.instancesOfToken.load(token.id)).map(asInstance);
  }

  @FieldResolver(() => GatewayGroup, { description: 'The group the token joins.' })
  async gatewayGroup(@Root() token: GatewayTokenEntity, @Ctx() { loaders }: Context): Promise<GatewayGroupEntity> {
    const group = await loaders.gateways.groupById.load(token.groupId);
    if (!group) throw notFound('gateway group', token.groupId);
    return group;
  }
}

@Resolver(() => ServiceVersion)
export class ServiceVersionResolver {
  @FieldResolver(() => GatewayGroup, { description: 'The group it belongs to.' })
  async gatewayGroup(@Root() version: ServiceVersionEntity, @Ctx() { loaders }: Context): Promise<GatewayGroupEntity> {
    const group = await loaders.gateways.groupById.load(version.groupId);
    if (!group) throw notFound('gateway group', version.groupId);
    return group;
  }

  @FieldResolver(() => String, { description: 'Alias of serviceName.' })
  service(@Root() version: ServiceVersionEntity): string {
    return version.serviceName;
  }
}
