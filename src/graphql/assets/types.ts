/**
 * GraphQL shapes of the catalog: the `Asset` interface with the fields every asset has, and a
 * concrete type per asset type whose spec has fields worth typing. Resolvers return asset rows
 * (ListedAsset: the columns shown); typed fields read from the row's spec through `specField`.
 */
import { NodeInterface } from '../node.js';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, ID, InputType, Int, InterfaceType, ObjectType, registerEnumType } from 'type-graphql';
import { assetTypes, type AssetType } from '../../domain/asset-types.js';
import type { ListedAsset } from '../../services/asset-rows.js';
import { ConnectionType, OrderInput } from '../connection.js';

export const AssetTypeEnum = Object.fromEntries(assetTypes.map((t) => [t, t])) as { [K in AssetType]: K };
registerEnumType(AssetTypeEnum, { name: 'AssetType' });

export enum OptionalDependencies {
  ALL = 'ALL',
  NONE = 'NONE',
  SELECTED = 'SELECTED',
}
registerEnumType(OptionalDependencies, {
  name: 'OptionalDependencies',
  description: 'Which optional dependencies travel: all, none, or the ones listed in optionalIds.',
});

/** Which concrete GraphQL type shows an asset of each type. */
export const graphqlTypeOf: Record<AssetType, string> = {
  API: 'ApiAsset',
  POLICY: 'PolicyAsset',
  ALIAS: 'Alias',
  APPLICATION: 'ApplicationAsset',
  PACKAGE: 'PackageAsset',
  PLAN: 'PlanAsset',
  SUBSCRIPTION: 'SubscriptionAsset',
  TEAM: 'TeamAsset',
  GROUP: 'GenericAsset',
  APPROVAL_CONFIGURATION: 'GenericAsset',
  ACCESS_PROFILE: 'GenericAsset',
  KEYSTORE: 'GenericAsset',
  TRUSTSTORE: 'GenericAsset',
  KEYSTORE_CONFIGURATION: 'GenericAsset',
  EMAIL_DESTINATION: 'GenericAsset',
  SERVICE_REGISTRY: 'GenericAsset',
  CUSTOM_DESTINATION: 'GenericAsset',
  EXTENDED_SETTINGS: 'GenericAsset',
  LOAD_BALANCER: 'GenericAsset',
  URL_ALIASES: 'GenericAsset',
};

@InterfaceType('Asset', {
  implements: NodeInterface,
  description: 'Anything the catalog holds. Its assetId is the same on every stage it reaches; its id (global) names the stage too.',
  // Remote answers (another stage's) carry __typename; ours carry the asset type.
  resolveType: (asset: ListedAsset & { __typename?: string }) => asset.__typename ?? graphqlTypeOf[asset.type],
})
export abstract class AssetInterface {
  @Field(() => ID) id!: string;
  @Field(() => ID, { description: 'The asset’s UUID: the same on every stage it reaches (archives, promotions, the CLI use it).' })
  assetId!: string;
  @Field(() => AssetTypeEnum) type!: AssetType;
  @Field() name!: string;
  @Field() description!: string;
  @Field(() => String, { nullable: true, description: 'Owning team (the name of a TEAM asset).' }) team!: string | null;
  @Field(() => String, { nullable: true, description: 'Version (APIs).' }) version!: string | null;
  @Field(() => GraphQLJSONObject, { description: 'Type-specific settings, defaults filled in. Secure values are never included.' })
  spec!: Record<string, unknown>;
  @Field({ description: 'SHA-256 of the normalised content; equal content, equal checksum, on any stage.' }) checksum!: string;
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;
  @Field() createdBy!: string;
  @Field() updatedBy!: string;
}

@ObjectType()
export class AssetDependencies {
  @Field(() => [AssetInterface], { description: 'Always travel with the asset.' }) required!: ListedAsset[];
  @Field(() => [AssetInterface], { description: 'Travel when selected.' }) optional!: ListedAsset[];
}

@ObjectType()
export class Route {
  @Field() method!: string;
  @Field() path!: string;
  @Field() description!: string;
}

@ObjectType({ implements: [NodeInterface, AssetInterface], description: 'An API: the service a gateway serves.' })
export class ApiAsset extends AssetInterface {
  @Field() apiType!: string;
  @Field() basePath!: string;
  @Field(() => [Route]) routes!: Route[];
  @Field(() => [String]) tags!: string[];
  @Field() maturity!: string;
  @Field(() => Int, { nullable: true, description: 'Position in its version set: 1, 2, 3 …' }) systemVersion!: number | null;
  @Field(() => ID, { nullable: true }) versionSetId!: string | null;
}

@ObjectType({ implements: [NodeInterface, AssetInterface] })
export class PolicyAsset extends AssetInterface {
  @Field() kind!: string;
  @Field() phase!: string;
  @Field(() => GraphQLJSONObject) config!: Record<string, unknown>;
}

@ObjectType({ implements: [NodeInterface, AssetInterface], description: 'A named value, bound to a stage or unbound (the default).' })
export class Alias extends AssetInterface {
  @Field(() => String, { nullable: true, description: 'Null when the alias is secure: secure values are never returned.' })
  value!: string | null;
  @Field(() => String, { nullable: true, description: 'The stage this variant is for; null = unbound.' }) stage!: string | null;
  @Field() secure!: boolean;
  @Field({ description: 'SIMPLE, ENDPOINT or AUTHENTICATION.' }) aliasKind!: string;
}

@ObjectType({ implements: [NodeInterface, AssetInterface] })
export class ApplicationAsset extends AssetInterface {
  @Field(() => String, { nullable: true }) contactEmail!: string | null;
  @Field(() => [String]) identifiers!: string[];
  @Field(() => [String]) redirectUris!: string[];
}

@ObjectType({ implements: [NodeInterface, AssetInterface] })
export class PackageAsset extends AssetInterface {
  @Field() visibility!: string;
  @Field(() => [String]) tags!: string[];
}

@ObjectType()
export class RateLimit {
  @Field(() => Int) requests!: number;
  @Field(() => Int) perSeconds!: number;
}

@ObjectType({ implements: [NodeInterface, AssetInterface] })
export class PlanAsset extends AssetInterface {
  @Field(() => RateLimit) rateLimit!: RateLimit;
  @Field(() => Float) price!: number;
  @Field() currency!: string;
}

@ObjectType({ implements: [NodeInterface, AssetInterface] })
export class SubscriptionAsset extends AssetInterface {
  @Field() status!: string;
}

@ObjectType({ implements: [NodeInterface, AssetInterface], description: 'A team; its groups are the GROUP assets it requires.' })
export class TeamAsset extends AssetInterface {
  @Field(() => String, { nullable: true }) email!: string | null;
}

@ObjectType({ implements: [NodeInterface, AssetInterface], description: 'Asset types without typed fields of their own.' })
export class GenericAsset extends AssetInterface {}

export const concreteAssetTypes = [ApiAsset, PolicyAsset, Alias, ApplicationAsset, PackageAsset, PlanAsset, SubscriptionAsset, TeamAsset, GenericAsset];

const classByName = new Map<string, { prototype: object }>(concreteAssetTypes.map((c) => [c.name, c]));

/** Views already made, per row: an asset listed many times in one answer is shaped once. */
const viewed = new WeakMap<ListedAsset, ListedAsset & Record<string, unknown>>();

/**
 * An asset row as GraphQL shows it: the spec's fields alongside the common ones (the concrete
 * types above read them from there), with secure values removed. The view is an instance of its
 * concrete type, so type-graphql hands it to field resolvers as it is instead of copying it
 * into a new instance for every field.
 */
export function assetView(asset: ListedAsset): ListedAsset & Record<string, unknown> {
  let view = viewed.get(asset);
  if (view) return view;
  view = Object.create(classByName.get(graphqlTypeOf[asset.type])!.prototype) as ListedAsset & Record<string, unknown>;
  if (asset.type === 'ALIAS') {
    const { kind, ...spec } = asset.spec;
    const value = asset.spec.secure ? null : asset.spec.value;
    Object.assign(view, spec, { value, aliasKind: kind }, asset, { spec: { ...asset.spec, value }, assetId: asset.id });
  } else {
    Object.assign(view, asset.spec, asset, { assetId: asset.id });
  }
  viewed.set(asset, view);
  return view;
}

export const AssetConnection = ConnectionType('Asset', () => AssetInterface);

export enum AssetOrderField {
  NAME = 'NAME',
  TYPE = 'TYPE',
  UPDATED_AT = 'UPDATED_AT',
}
registerEnumType(AssetOrderField, {
  name: 'AssetOrderField',
  valuesConfig: { NAME: { description: 'Case-insensitive.' }, TYPE: { description: 'Then by name.' }, UPDATED_AT: { description: 'Last change.' } },
});
export const AssetOrder = OrderInput<AssetOrderField>('AssetOrder', AssetOrderField, 'How assets are sorted (default: NAME, ASC).');

@InputType('AssetFilter')
export class AssetFilterInput {
  @Field(() => String, { nullable: true, description: 'Matches any string attribute; `*` wildcards, `a|b` alternatives.' })
  keyword?: string | null;
  @Field(() => [AssetTypeEnum], { nullable: true }) types?: AssetType[] | null;
  @Field(() => [String], { nullable: true }) teams?: string[] | null;
}

@InputType()
export class CreateAssetInput {
  @Field(() => AssetTypeEnum) type!: AssetType;
  @Field() name!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => String, { nullable: true }) team?: string | null;
  @Field(() => String, { nullable: true, description: 'Required for APIs.' }) version?: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Validated per type; unknown fields are refused.' })
  spec?: Record<string, unknown> | null;
  @Field(() => [ID], { nullable: true, description: 'Assets this one depends on; the kind follows from the two types.' })
  references?: string[] | null;
}

@InputType()
export class UpdateAssetInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => String, { nullable: true }) team?: string | null;
  @Field(() => String, { nullable: true }) version?: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Replaces the whole spec.' }) spec?: Record<string, unknown> | null;
  @Field(() => [ID], { nullable: true, description: 'Replaces all references.' }) references?: string[] | null;
}

