/**
 * GraphQL shapes of the catalog: the `Asset` interface with the fields every asset has, and a
 * concrete type per asset type whose spec has fields worth typing. Resolvers return asset rows
 * (ListedAsset: the columns shown); typed fields read from the row's spec through `specField`.
 */
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, getMetadataStorage, ID, InputType, Int, InterfaceType, ObjectType, registerEnumType } from 'type-graphql';
import { assetTypes, type AssetType } from '../../domain/asset-types.js';
import type { ListedAsset } from '../../services/asset-rows.js';
import { ConnectionType } from '../connection.js';

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

/** The concrete type of an Asset value: remote answers (another stage's) carry __typename; ours carry the asset type. */
export const assetTypeName = (asset: ListedAsset & { __typename?: string }): string => asset.__typename ?? graphqlTypeOf[asset.type];

@InterfaceType('Asset', {
  description: 'Anything the catalog holds. Its id is the same on every stage it reaches.',
  // type-graphql wraps this in an async function; schema.ts installs it unwrapped on the built schema.
  resolveType: assetTypeName,
})
export abstract class AssetInterface {
  @Field(() => ID) id!: string;
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

@ObjectType({ implements: AssetInterface, description: 'An API: the service a gateway serves.' })
export class ApiAsset extends AssetInterface {
  @Field() apiType!: string;
  @Field() basePath!: string;
  @Field(() => [Route]) routes!: Route[];
  @Field(() => [String]) tags!: string[];
  @Field() maturity!: string;
  @Field(() => Int, { nullable: true, description: 'Position in its version set: 1, 2, 3 …' }) systemVersion!: number | null;
  @Field(() => ID, { nullable: true }) versionSetId!: string | null;
}

@ObjectType({ implements: AssetInterface })
export class PolicyAsset extends AssetInterface {
  @Field() kind!: string;
  @Field() phase!: string;
  @Field(() => GraphQLJSONObject) config!: Record<string, unknown>;
}

@ObjectType({ implements: AssetInterface, description: 'A named value, bound to a stage or unbound (the default).' })
export class Alias extends AssetInterface {
  @Field(() => String, { nullable: true, description: 'Null when the alias is secure: secure values are never returned.' })
  value!: string | null;
  @Field(() => String, { nullable: true, description: 'The stage this variant is for; null = unbound.' }) stage!: string | null;
  @Field() secure!: boolean;
  @Field({ description: 'SIMPLE, ENDPOINT or AUTHENTICATION.' }) aliasKind!: string;
}

@ObjectType({ implements: AssetInterface })
export class ApplicationAsset extends AssetInterface {
  @Field(() => String, { nullable: true }) contactEmail!: string | null;
  @Field(() => [String]) identifiers!: string[];
  @Field(() => [String]) redirectUris!: string[];
}

@ObjectType({ implements: AssetInterface })
export class PackageAsset extends AssetInterface {
  @Field() visibility!: string;
  @Field(() => [String]) tags!: string[];
}

@ObjectType()
export class RateLimit {
  @Field(() => Int) requests!: number;
  @Field(() => Int) perSeconds!: number;
}

@ObjectType({ implements: AssetInterface })
export class PlanAsset extends AssetInterface {
  @Field(() => RateLimit) rateLimit!: RateLimit;
  @Field(() => Float) price!: number;
  @Field() currency!: string;
}

@ObjectType({ implements: AssetInterface })
export class SubscriptionAsset extends AssetInterface {
  @Field() status!: string;
}

@ObjectType({ implements: AssetInterface, description: 'A team; its groups are the GROUP assets it requires.' })
export class TeamAsset extends AssetInterface {
  @Field(() => String, { nullable: true }) email!: string | null;
}

@ObjectType({ implements: AssetInterface, description: 'Asset types without typed fields of their own.' })
export class GenericAsset extends AssetInterface {}

export const concreteAssetTypes = [ApiAsset, PolicyAsset, Alias, ApplicationAsset, PackageAsset, PlanAsset, SubscriptionAsset, TeamAsset, GenericAsset];

/** The columns of a ListedAsset, copied onto its view in this one order (asset-rows.ts lists them). */
type Columns = { [K in keyof ListedAsset]-?: true };
const columns: Columns = {
  id: true, type: true, name: true, description: true, team: true, version: true, naturalKey: true, spec: true, checksum: true,
  versionSetId: true, systemVersion: true, createdAt: true, updatedAt: true, createdBy: true, updatedBy: true,
};
type View = ListedAsset & Record<string, unknown>;

/**
 * A constructor of views for one concrete type: its prototype is the type's, and it writes the
 * columns in a fixed order, then the spec fields the type declares (the only ones GraphQL
 * reads), so views of a type share one hidden class. (Object.create + Object.assign of spec and
 * row cost ~20 µs a view: most of a large page.)
 */
function viewConstructor(type: { prototype: object }): new (asset: ListedAsset, spec: Record<string, unknown>) => View {
  // The type's own @Field properties; a field also named like a column reads the column.
  const specFields = getMetadataStorage()
    .fields.filter((f) => f.target === type && !Object.hasOwn(columns, f.name))
    .map((f) => f.name);
  function AssetView(this: View, asset: ListedAsset, spec: Record<string, unknown>) {
    this.id = asset.id;
    this.type = asset.type;
    this.name = asset.name;
    this.description = asset.description;
    this.team = asset.team;
    this.version = asset.version;
    this.naturalKey = asset.naturalKey;
    this.spec = asset.spec;
    this.checksum = asset.checksum;
    this.versionSetId = asset.versionSetId;
    this.systemVersion = asset.systemVersion;
    this.createdAt = asset.createdAt;
    this.updatedAt = asset.updatedAt;
    this.createdBy = asset.createdBy;
    this.updatedBy = asset.updatedBy;
    for (const key of specFields) this[key] = spec[key];
  }
  AssetView.prototype = type.prototype;
  return AssetView as unknown as new (asset: ListedAsset, spec: Record<string, unknown>) => View;
}

const viewOfType = new Map(concreteAssetTypes.map((c) => [c.name, viewConstructor(c)]));

/**
 * A row's view, kept on the row (non-enumerable: copies of the row do not take it along), so an
 * asset listed many times in one answer is shaped once.
 */
const VIEW = Symbol('view');

/**
 * An asset row as GraphQL shows it: the spec's fields alongside the common ones (the concrete
 * types above read them from there), with secure values removed. The view is an instance of its
 * concrete type, so type-graphql hands it to field resolvers as it is instead of copying it
 * into a new instance for every field. Only the ListedAsset columns are copied (an entity's
 * search text and sealed secret stay behind).
 */
export function assetView(asset: ListedAsset): View {
  const known = (asset as ListedAsset & { [VIEW]?: View })[VIEW];
  if (known) return known;
  const View = viewOfType.get(graphqlTypeOf[asset.type])!;
  let view: View;
  if (asset.type === 'ALIAS') {
    const { kind, ...spec } = asset.spec;
    const value = asset.spec.secure ? null : asset.spec.value;
    view = new View({ ...asset, spec: { ...asset.spec, value } }, { ...spec, value, aliasKind: kind });
  } else {
    view = new View(asset, asset.spec);
  }
  Object.defineProperty(asset, VIEW, { value: view });
  return view;
}

export const AssetConnection = ConnectionType('Asset', () => AssetInterface);

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

