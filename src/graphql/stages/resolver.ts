import { NodeInterface } from '../node.js';
import { Arg, Ctx, Field, FieldResolver, ID, InputType, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import type { StageEntity } from '../../entities/stage.js';
import { badInput } from '../../errors.js';
import { productVersion } from '../../version.js';
import type { Context } from '../context.js';
import { Requires } from '../guard.js';
import { KeyedById } from '../subgraph/key.js';

@KeyedById()
@ObjectType({ implements: NodeInterface, description: 'Another Stagecraft instance this one promotes to. Its password is never returned.' })
export class Stage {
  @Field(() => ID, { description: 'The stage’s id ("local" for this instance).' }) id!: string;
  @Field({ description: 'The stage’s name.' }) name!: string;
  @Field({ description: 'Free text.' }) description!: string;
  @Field({ description: 'The instance’s base URL; empty for this instance.' }) url!: string;
  @Field({ description: 'The user Stagecraft signs in as on that instance; empty for this instance.' }) username!: string;
  @Field(() => String, { nullable: true, description: 'PEM certificate(s) trusted for this https stage; null = the system CAs.' })
  caCertificate!: string | null;
  @Field(() => String, { nullable: true, description: 'PEM client certificate presented to this https stage (mutual TLS).' })
  clientCertificate!: string | null;
  @Field({ description: 'Whether a client key is stored (the key itself is never returned).' }) hasClientKey!: boolean;
  @Field(() => Date, { nullable: true, description: 'Null for this instance.' }) createdAt!: Date | null;
  @Field(() => Date, { nullable: true, description: 'Null for this instance.' }) updatedAt!: Date | null;
  @Field({ description: 'True for the stage this instance is; its fields resolve here, the others on their own instance.' })
  isLocal!: boolean;
}

/** The stage this instance is, as a Stage, so `stage(name)` walks into it like any other. */
export const localStage = (name: string): Stage => ({
  id: name,
  name,
  description: 'this instance',
  url: '',
  username: '',
  caCertificate: null,
  clientCertificate: null,
  hasClientKey: false,
  createdAt: null,
  updatedAt: null,
  isLocal: true,
});

export const asStage = (row: StageEntity): Stage => ({
  id: row.id,
  name: row.name,
  description: row.description,
  url: row.url,
  username: row.username,
  caCertificate: row.caCertificate,
  clientCertificate: row.clientCertificate,
  hasClientKey: row.sealedClientKey !== null,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
  isLocal: false,
});

@InputType({ description: 'A new stage: another Stagecraft instance this one promotes to.' })
export class CreateStageInput {
  @Field({ description: 'The stage’s name, as that instance calls itself (e.g. qa, prod).' }) name!: string;
  @Field(() => String, { nullable: true, description: 'Free text.' }) description?: string | null;
  @Field({ description: 'http(s)://host:port; link-local and metadata addresses are refused unless allowed (STAGECRAFT_ALLOWED_HOSTS).' }) url!: string;
  @Field({ description: 'A user of the target instance holding MANAGE_PROMOTIONS.' }) username!: string;
  @Field({ description: 'Write-only: stored encrypted, never returned.' }) password!: string;
  @Field(() => String, { nullable: true, description: 'https only: PEM certificate(s) to verify the stage with (default: the system CAs).' })
  caCertificate?: string | null;
  @Field(() => String, { nullable: true, description: 'https only: PEM client certificate for mutual TLS (with clientKey).' })
  clientCertificate?: string | null;
  @Field(() => String, { nullable: true, description: 'https only, write-only: unencrypted PEM private key of clientCertificate; stored encrypted, never returned.' })
  clientKey?: string | null;
}

@InputType({ description: 'Fields of a stage to change; the others stay.' })
export class UpdateStageInput {
  @Field(() => String, { nullable: true, description: 'New name.' }) name?: string;
  @Field(() => String, { nullable: true, description: 'New description.' }) description?: string | null;
  @Field(() => String, { nullable: true, description: 'Changing it needs password again.' }) url?: string;
  @Field(() => String, { nullable: true, description: 'Changing it needs password again.' }) username?: string;
  @Field(() => String, { nullable: true, description: 'New password (write-only, stored encrypted).' }) password?: string;
  @Field(() => String, { nullable: true, description: 'null clears it; changing it needs password again.' }) caCertificate?: string | null;
  @Field(() => String, { nullable: true, description: 'null clears it (and the key).' }) clientCertificate?: string | null;
  @Field(() => String, { nullable: true, description: 'Write-only; null clears it.' }) clientKey?: string | null;
}

@ObjectType({ description: 'Whether a stage can be promoted to: reached, signed in, privileged, compatible.' })
export class StageTestResult {
  @Field({ description: 'Whether promotions to it can work.' }) ok!: boolean;
  @Field({ description: 'What went wrong, or OK.' }) message!: string;
  @Field(() => String, { nullable: true, description: 'The stage name that instance reports.' }) remoteStage!: string | null;
  @Field(() => String, { nullable: true, description: 'The stage’s Stagecraft version.' }) productVersion!: string | null;
  @Field(() => Int, { nullable: true, description: 'How long the round trip took, in milliseconds.' }) latencyMs!: number | null;
}

@ObjectType({ description: 'The last background check of a stage (every STAGECRAFT_STAGE_CHECK_MS, 30 s by default); reading it never reaches the stage.' })
export class StageStatus {
  @Field({ description: 'A Stagecraft instance answered (even one that refused the stored credentials).' }) reachable!: boolean;
  @Field(() => Int, { nullable: true, description: 'Round trip of the check in ms (signing in included when no session was held).' }) latencyMs!: number | null;
  @Field(() => String, { nullable: true, description: 'The Stagecraft version the stage runs.' }) productVersion!: string | null;
  @Field({ description: 'When the check finished.' }) checkedAt!: Date;
  @Field(() => String, { nullable: true, description: 'Why the check failed, in fixed words (`CODE: …`); never the remote’s own text.' }) error!: string | null;
}

@ObjectType({ description: 'This instance: its stage and product version.' })
export class ServerInfo {
  @Field({ description: 'The stage this instance is.' }) stage!: string;
  @Field({ description: 'Stagecraft’s version on this instance.' }) productVersion!: string;
}

@Resolver(() => Stage)
export class StageStatusResolver {
  @FieldResolver(() => StageStatus, { nullable: true, description: 'Whether the stage can be reached, as last checked in the background; null until the first check of a new stage.' })
  status(@Root() stage: Stage, @Ctx() { services }: Context): StageStatus | null {
    if (stage.isLocal) return { reachable: true, latencyMs: 0, productVersion, checkedAt: new Date(), error: null };
    return services.stageStatus.get(stage.name);
  }
}

/** GraphQL null on an optional field means "leave as is" for the non-nullable columns. */
const defined = <T extends object>(input: T) => Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<T>;

@Resolver()
export class StageResolver {
  @Requires()
  @Query(() => ServerInfo, { description: 'This instance’s stage and product version.' })
  serverInfo(@Ctx() { services }: Context): ServerInfo {
    return { stage: services.stage, productVersion };
  }

  @Requires()
  @Query(() => [Stage], { description: 'The stages this instance promotes to.' })
  async stages(@Ctx() { services }: Context): Promise<Stage[]> {
    return (await services.stages.list()).map(asStage);
  }

  @Requires()
  @Query(() => Stage, {
    description:
      'A registered stage, or this instance by its own stage name: walk into its assets, promotions and rollbacks. Fields of a remote stage are read with its stored credentials and need MANAGE_PROMOTIONS.',
  })
  async stage(@Arg('name', { description: 'The stage’s name.' }) name: string, @Ctx() { services }: Context): Promise<Stage> {
    return name === services.stage ? localStage(name) : asStage(await services.stages.get(name));
  }

  @Requires('MANAGE_PROMOTIONS')
  @Mutation(() => Stage, { description: 'Registers another Stagecraft instance as a stage to promote to.' })
  async createStage(@Arg('input', { description: 'The stage, its URL and credentials.' }) input: CreateStageInput, @Ctx() { services }: Context): Promise<Stage> {
    if (input.name === services.stage) throw badInput(`${input.name} is this instance's own stage`, { field: 'name' });
    return asStage(await services.stages.create(input));
  }

  @Requires('MANAGE_PROMOTIONS')
  @Mutation(() => Stage, { description: 'Changes a registered stage; changing its URL or user needs the password again.' })
  async updateStage(@Arg('name', { description: 'The stage’s name.' }) name: string, @Arg('input', { description: 'The fields to change.' }) input: UpdateStageInput, @Ctx() { services }: Context): Promise<Stage> {
    const { name: newName, url, username, password, ...rest } = input;
    return asStage(
      await services.stages.update(name, defined({ ...rest, name: newName ?? undefined, url: url ?? undefined, username: username ?? undefined, password: password ?? undefined })),
    );
  }

  @Requires('MANAGE_PROMOTIONS')
  @Mutation(() => Boolean, { description: 'Removes a registered stage.' })
  deleteStage(@Arg('name', { description: 'The stage’s name.' }) name: string, @Ctx() { services }: Context): Promise<boolean> {
    return services.stages.delete(name);
  }

  @Requires('MANAGE_PROMOTIONS')
  @Mutation(() => StageTestResult, {
    description: 'Reaches a saved stage (by name) or unsaved input, signs in, checks MANAGE_PROMOTIONS and the product version.',
  })
  async testStage(
    @Arg('name', () => String, { nullable: true, description: 'A saved stage’s name.' }) name: string | null,
    @Arg('input', () => CreateStageInput, { nullable: true, description: 'An unsaved stage to test instead.' }) input: CreateStageInput | null,
    @Ctx() { services }: Context,
  ): Promise<StageTestResult> {
    if (name) return services.stages.test(await services.stages.remote(name));
    if (!input) throw badInput('give a stage name or input', { field: 'name' });
    return services.stages.testInput(input);
  }
}
