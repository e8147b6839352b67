import { GraphQLJSONObject } from 'graphql-scalars';
import { Arg, Ctx, Field, FieldResolver, ID, InputType, Int, Mutation, ObjectType, Query, Resolver, Root, Subscription } from 'type-graphql';
import { requireId } from '../../db/ids.js';
import type { GatewayConfig } from '../../dataplane/config.js';
import type { GatewayGroupEntity, GatewayInstanceEntity, ServiceRegistryEntity, ServiceVersionEntity } from '../../entities/gateway.js';
import { AppError } from '../../errors.js';
import type { StoredEvent } from '../../events/event-log.js';
import type { AuthUser } from '../../services/auth.js';
import { ONLINE_WINDOW_MS } from '../../services/gateways.js';
import type { Context } from '../context.js';
import { CurrentUser, Requires } from '../guard.js';

@ObjectType()
class RouteInfo {
  @Field(() => [String]) methods!: string[];
  @Field(() => [String]) paths!: string[];
  @Field(() => String, { nullable: true }) host!: string | null;
}

@ObjectType({ description: 'A gateway group: instances that run the same configuration.' })
export class GatewayGroup {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field() description!: string;
  @Field(() => Int, { description: 'Grows with every configuration change.' }) revision!: number;
}

@ObjectType({ description: 'A published version of a service (an API) in a gateway group.' })
export class ServiceVersion {
  @Field(() => ID) id!: string;
  @Field() version!: string;
  @Field({ description: 'The service (API) name.' }) serviceName!: string;
  @Field(() => ID) assetId!: string;
  @Field(() => [RouteInfo]) routes!: RouteInfo[];
  @Field(() => GraphQLJSONObject, { description: 'nodes or discovery, timeoutMs, retries.' }) upstream!: Record<string, unknown>;
  @Field(() => ID, { nullable: true, description: 'The version of another group this was synced from.' }) syncedFrom!: string | null;
  @Field() createdBy!: string;
  @Field() createdAt!: Date;
  groupId!: string;
}

@ObjectType()
class GroupService {
  @Field() name!: string;
  @Field(() => ServiceVersion) runningVersion!: ServiceVersionEntity;
  @Field(() => [ServiceVersion], { description: 'Every version published in this group, oldest first.' }) versions!: ServiceVersionEntity[];
}

@ObjectType()
class GatewayInstance {
  @Field(() => ID) id!: string;
  @Field() hostname!: string;
  @Field({ description: 'ONLINE while heartbeats are fresh, else OFFLINE.' }) status!: string;
  @Field() lastSeen!: Date;
  @Field(() => Int) configRevision!: number;
}

@ObjectType()
class CreatedGatewayToken {
  @Field(() => ID) id!: string;
  @Field({ description: 'Shown once: give it to `stagecraft gateway --token`.' }) token!: string;
}

@ObjectType()
class SyncOperation {
  @Field(() => ID, { description: 'Follow it with syncProgress.' }) id!: string;
  @Field(() => ServiceVersion) serviceVersion!: ServiceVersionEntity;
}

@ObjectType()
class SyncProgressEvent {
  @Field(() => Int) sequence!: number;
  @Field(() => ID) operationId!: string;
  @Field({ description: 'PUBLISHED, INSTANCE, COMPLETED or FAILED' }) phase!: string;
  @Field() message!: string;
  @Field() at!: Date;
}

@ObjectType()
class ServiceRegistry {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field({ description: 'DNS, NACOS or KUBERNETES' }) type!: string;
  @Field() address!: string;
  @Field(() => Int) refreshMs!: number;
  @Field() gatewayGroup!: string;
}

@ObjectType({ description: 'The configuration a gateway group runs, as its instances receive it.' })
class GatewayConfigUpdate {
  @Field() group!: string;
  @Field(() => Int) revision!: number;
  @Field(() => GraphQLJSONObject) config!: GatewayConfig;
}

@InputType()
class CreateGatewayGroupInput {
  @Field() name!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
}

@InputType()
class UpdateGatewayGroupInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
}

@InputType()
class UpstreamNodeInput {
  @Field() host!: string;
  @Field(() => Int) port!: number;
  @Field(() => Int, { nullable: true, defaultValue: 1 }) weight?: number | null;
}

@InputType()
class DiscoveryInput {
  @Field({ description: 'A service registry of the group.' }) registry!: string;
  @Field(() => String, { nullable: true }) namespace?: string | null;
  @Field() serviceName!: string;
}

@InputType({ description: 'Either nodes or discovery.' })
class UpstreamInput {
  @Field(() => [UpstreamNodeInput], { nullable: true }) nodes?: UpstreamNodeInput[] | null;
  @Field(() => DiscoveryInput, { nullable: true }) discovery?: DiscoveryInput | null;
  @Field(() => Int, { nullable: true }) timeoutMs?: number | null;
  @Field(() => Int, { nullable: true }) retries?: number | null;
}

@InputType()
class PublishServiceInput {
  @Field(() => ID, { description: 'An API asset.' }) assetId!: string;
  @Field() gatewayGroup!: string;
  @Field(() => String, { nullable: true, description: 'Next patch version when omitted.' }) version?: string | null;
  @Field(() => UpstreamInput) upstream!: UpstreamInput;
}

@InputType()
class SyncServiceVersionInput {
  @Field(() => ID, { description: 'The running version of a service in its group.' }) serviceVersionId!: string;
  @Field() targetGroup!: string;
  @Field(() => UpstreamInput, { description: 'The upstream in the target group.' }) upstream!: UpstreamInput;
}

@InputType()
class CreateServiceRegistryInput {
  @Field() gatewayGroup!: string;
  @Field() name!: string;
  @Field({ description: 'DNS, NACOS or KUBERNETES' }) type!: string;
  @Field({ description: 'DNS: resolver host:port. NACOS / KUBERNETES: base URL.' }) address!: string;
  @Field(() => String, { nullable: true, description: 'Bearer token (write-only, stored encrypted).' }) token?: string | null;
  @Field(() => Int, { nullable: true }) refreshMs?: number | null;
}

const isOnline = (i: GatewayInstanceEntity) => Date.now() - i.lastSeen.getTime() < ONLINE_WINDOW_MS;

@Resolver(() => GatewayGroup)
export class GatewayGroupResolver {
  @Requires()
  @Query(() => [GatewayGroup])
  gatewayGroups(@Ctx() { services }: Context): Promise<GatewayGroupEntity[]> {
    return services.gateways.listGroups();
  }

  @Requires()
  @Query(() => GatewayGroup)
  gatewayGroup(@Arg('name') name: string, @Ctx() { services }: Context): Promise<GatewayGroupEntity> {
    return services.gateways.group(name);
  }

  @Requires()
  @Query(() => [ServiceRegistry])
  async serviceRegistries(@Arg('gatewayGroup', () => String, { nullable: true }) group: string | null, @Ctx() { services }: Context): Promise<ServiceRegistry[]> {
    return (await services.gateways.registries(group)).map((r: ServiceRegistryEntity & { group?: GatewayGroupEntity }) => ({
      id: r.id,
      name: r.name,
      type: r.type,
      address: r.address,
      refreshMs: r.refreshMs,
      gatewayGroup: r.group?.name ?? '',
    }));
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Mutation(() => GatewayGroup)
  createGatewayGroup(@Arg('input') input: CreateGatewayGroupInput, @Ctx() { services }: Context): Promise<GatewayGroupEntity> {
    return services.gateways.createGroup(input);
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Mutation(() => GatewayGroup)
  updateGatewayGroup(@Arg('name') name: string, @Arg('input') input: UpdateGatewayGroupInput, @Ctx() { services }: Context): Promise<GatewayGroupEntity> {
    return services.gateways.updateGroup(name, input);
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Mutation(() => Boolean)
  deleteGatewayGroup(@Arg('name') name: string, @Ctx() { services }: Context): Promise<boolean> {
    return services.gateways.deleteGroup(name);
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Mutation(() => CreatedGatewayToken, { description: 'A join token for gateway instances of the group.' })
  createGatewayInstanceToken(@Arg('gatewayGroup') gatewayGroup: string, @Ctx() { services }: Context): Promise<CreatedGatewayToken> {
    return services.gateways.createInstanceToken(gatewayGroup);
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Mutation(() => ServiceVersion, { description: 'Publishes an API as a new service version in a group and runs it.' })
  publishService(@Arg('input') input: PublishServiceInput, @CurrentUser() user: AuthUser, @Ctx() { services }: Context): Promise<ServiceVersionEntity> {
    return services.gateways.publish(user, input);
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Mutation(() => ServiceVersion, { description: 'Runs an earlier version of a service again.' })
  rollbackService(
    @Arg('service') service: string,
    @Arg('gatewayGroup') gatewayGroup: string,
    @Arg('version') version: string,
    @Ctx() { services }: Context,
  ): Promise<ServiceVersionEntity> {
    return services.gateways.rollbackService(service, gatewayGroup, version);
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Mutation(() => SyncOperation, { description: 'Copies the running version to another group, same version number; follow with syncProgress.' })
  syncServiceVersion(@Arg('input') input: SyncServiceVersionInput, @CurrentUser() user: AuthUser, @Ctx() { services }: Context) {
    return services.gateways.sync(user, input).then(({ id, version }) => ({ id, serviceVersion: version }));
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Mutation(() => ServiceRegistry)
  async createServiceRegistry(@Arg('input') input: CreateServiceRegistryInput, @Ctx() { services }: Context): Promise<ServiceRegistry> {
    if (!['DNS', 'NACOS', 'KUBERNETES'].includes(input.type)) throw new AppError('BAD_USER_INPUT', 'type must be DNS, NACOS or KUBERNETES', { field: 'type' });
    const row = await services.gateways.createRegistry({ ...input, type: input.type as 'DNS' | 'NACOS' | 'KUBERNETES' });
    return { id: row.id, name: row.name, type: row.type, address: row.address, refreshMs: row.refreshMs, gatewayGroup: input.gatewayGroup };
  }

  @Requires('GATEWAY_AGENT')
  @Mutation(() => Boolean, { description: 'Gateway instances report they are alive and which revision they run.' })
  async gatewayHeartbeat(
    @Arg('instanceId', () => ID) instanceId: string,
    @Arg('hostname') hostname: string,
    @Arg('revision', () => Int) revision: number,
    @Ctx() { services, gateway }: Context,
  ): Promise<boolean> {
    await services.gateways.heartbeat(gateway!.group, { id: requireId('instanceId', instanceId), hostname, revision });
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
  gatewayConfig(@Root() config: GatewayConfig, @Arg('group') _group: string): GatewayConfigUpdate {
    return { group: config.group, revision: config.revision, config };
  }

  @Requires('MANAGE_GATEWAY_GROUPS')
  @Subscription(() => SyncProgressEvent, {
    description: 'Progress of a sync until the target group’s online instances run the new revision.',
    subscribe: ({ args, context }) => (context as Context).services.gateways.followSync(args.operationId as string, (args.afterSequence as number | null) ?? 0),
  })
  syncProgress(
    @Root() event: StoredEvent,
    @Arg('operationId', () => ID) _operationId: string,
    @Arg('afterSequence', () => Int, { nullable: true, defaultValue: 0 }) _afterSequence: number | null,
  ): SyncProgressEvent {
    const p = event.payload as { operationId: string; phase: string; message: string };
    return { sequence: event.sequence, operationId: p.operationId, phase: p.phase, message: p.message, at: event.createdAt };
  }

  @FieldResolver(() => [GroupService])
  async services(@Root() group: GatewayGroupEntity, @Ctx() { services }: Context): Promise<GroupService[]> {
    const [running, versions] = await Promise.all([services.gateways.running([group.id]), services.gateways.versions([group.id])]);
    return running.map((r) => ({
      name: r.serviceName,
      runningVersion: versions.find((v) => v.id === r.runningVersionId)!,
      versions: versions.filter((v) => v.serviceName === r.serviceName),
    }));
  }

  @FieldResolver(() => [GatewayInstance])
  async instances(@Root() group: GatewayGroupEntity, @Ctx() { services }: Context): Promise<GatewayInstance[]> {
    return (await services.gateways.instances([group.id])).map((i) => ({ ...i, status: isOnline(i) ? 'ONLINE' : 'OFFLINE' }));
  }
}

@Resolver(() => ServiceVersion)
export class ServiceVersionResolver {
  @FieldResolver(() => GatewayGroup)
  async gatewayGroup(@Root() version: ServiceVersionEntity, @Ctx() { services }: Context): Promise<GatewayGroupEntity> {
    return services.gateways.groupById(version.groupId);
  }

  @FieldResolver(() => String, { description: 'Alias of serviceName.' })
  service(@Root() version: ServiceVersionEntity): string {
    return version.serviceName;
  }
}
