/**
 * GraphQL shapes of the catalog: the `Asset` interface with the fields every asset has, and a
 * concrete type per asset type whose spec has fields worth typing. Resolvers return asset rows
 * (ListedAsset: the columns shown); typed fields read from the row's spec through `specField`.
 */
import { NodeInterface } from '../node.js';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, getMetadataStorage, ID, InputType, Int, InterfaceType, ObjectType, registerEnumType } from 'type-graphql';
import { aliasKinds, assetTypes, type AssetType } from '../../domain/asset-types.js';
import type { ListedAsset } from '../../services/asset-rows.js';
import { ConnectionType, OrderInput } from '../connection.js';
import { KeyedById } from '../subgraph/key.js';

export const AssetTypeEnum = Object.fromEntries(assetTypes.map((t) => [t, t])) as { [K in AssetType]: K };
registerEnumType(AssetTypeEnum, {
  name: 'AssetType',
  description: 'What an asset is; its spec, dependencies and secure fields are declared per type (src/domain/asset-types.ts).',
  valuesConfig: {
    ACCESS_PROFILE: { description: 'Who may approve what; required by approval configurations.' },
    ALIAS: { description: 'A named value (endpoint, credentials …) that differs per stage.' },
    API: { description: 'An API (the service a gateway serves).' },
    APPLICATION: { description: 'A consumer application of APIs.' },
    APPROVAL_CONFIGURATION: { description: 'Which requests need approval, and by whom.' },
    CUSTOM_DESTINATION: { description: 'An endpoint events and metrics are sent to.' },
    EMAIL_DESTINATION: { description: 'A mail server notifications are sent through.' },
    EXTENDED_SETTINGS: { description: 'Admin configuration: extended settings.' },
    GROUP: { description: 'A group of users; teams require their groups.' },
    KEYSTORE: { description: 'Private keys and certificates.' },
    KEYSTORE_CONFIGURATION: { description: 'Which keystore and truststore the gateway uses.' },
    LOAD_BALANCER: { description: 'Admin configuration: load balancer URLs.' },
    PACKAGE: { description: 'A bundle of APIs offered under plans.' },
    PLAN: { description: 'Terms of use of a package: rate limit and price.' },
    POLICY: { description: 'A rule an API applies to its traffic (rate limit, CORS, authentication …).' },
    SERVICE_REGISTRY: { description: 'A registry upstream nodes are discovered from.' },
    SUBSCRIPTION: { description: 'An application’s subscription to a package under a plan.' },
    TEAM: { description: 'A team that owns assets.' },
    TRUSTSTORE: { description: 'Trusted certificates.' },
    URL_ALIASES: { description: 'Admin configuration: URL aliases.' },
    THREAT_PROTECTION_GLOBAL_DOS: { description: 'Threat protection: global denial-of-service limits.' },
    THREAT_PROTECTION_DOS_BY_IP: { description: 'Threat protection: denial-of-service limits per client IP.' },
    THREAT_PROTECTION_RULE: { description: 'Threat protection: a rule that blocks matching requests.' },
    THREAT_PROTECTION_MOBILE: { description: 'Threat protection: mobile devices and apps allowed or blocked.' },
    THREAT_PROTECTION_ALERT_SETTINGS: { description: 'Threat protection: where and how alerts are sent.' },
    GLOBAL_POLICY: { description: 'A policy applied to every API that matches its filter.' },
    POLICY_TEMPLATE: { description: 'A reusable set of policies for new APIs.' },
    API_FAULT: { description: 'Administration: the fault returned to clients when a request fails.' },
    CUSTOM_CONTENT_TYPES: { description: 'Administration: custom content types and how they are treated.' },
    CALLBACK_PROCESSOR_SETTINGS: { description: 'Administration: callback processor settings.' },
    SAML_ISSUER: { description: 'Security: a trusted SAML issuer.' },
    CUSTOM_ASSERTION: { description: 'Security: a custom WS-Security assertion.' },
    KERBEROS: { description: 'Security: Kerberos settings.' },
    JWT_OAUTH_OPENID: { description: 'Security: JWT, OAuth and OpenID configuration.' },
    AUTHORIZATION_SERVER_PROVIDER: { description: 'Security: an authorization server (OAuth2 / OpenID provider).' },
    API_GATEWAY_DESTINATION: { description: 'Destination: the gateway’s own event and metrics store.' },
    API_PORTAL_DESTINATION: { description: 'Destination: an API Portal events are published to.' },
    ELASTICSEARCH_DESTINATION: { description: 'Destination: an Elasticsearch cluster events are sent to.' },
    EMAIL_TEMPLATE: { description: 'A template for notification e-mails; requires an e-mail destination.' },
    APPLICATION_REGISTRATION: { description: 'An application registered with an authorization server; optional for APIs and applications.' },
  },
});

export enum OptionalDependencies {
  ALL = 'ALL',
  NONE = 'NONE',
  SELECTED = 'SELECTED',
}
registerEnumType(OptionalDependencies, {
  name: 'OptionalDependencies',
  description: 'Which optional dependencies travel: all, none, or the ones listed in optionalIds.',
  valuesConfig: {
    ALL: { description: 'Every optional dependency travels.' },
    NONE: { description: 'No optional dependency travels.' },
    SELECTED: { description: 'Only those listed in optionalIds travel.' },
  },
});

/** Types whose spec has fields worth typing in GraphQL; every other type shows as GenericAsset (spec as JSON). */
const typedAssets: Partial<Record<AssetType, string>> = {
  API: 'ApiAsset',
  POLICY: 'PolicyAsset',
  ALIAS: 'Alias',
  APPLICATION: 'ApplicationAsset',
  PACKAGE: 'PackageAsset',
  PLAN: 'PlanAsset',
  SUBSCRIPTION: 'SubscriptionAsset',
  TEAM: 'TeamAsset',
};

/** Which concrete GraphQL type shows an asset of each type. */
export const graphqlTypeOf = Object.fromEntries(assetTypes.map((t) => [t, typedAssets[t] ?? 'GenericAsset'])) as Record<AssetType, string>;

/** The concrete type of an Asset value: remote answers (another stage's) carry __typename; ours carry the asset type. */
export const assetTypeName = (asset: ListedAsset & { __typename?: string }): string => asset.__typename ?? graphqlTypeOf[asset.type];

@KeyedById()
@InterfaceType('Asset', {
  implements: NodeInterface,
  description: 'Anything the catalog holds. Its assetId is the same on every stage it reaches; its id (global) names the stage too.',
  // type-graphql wraps this in an async function; schema.ts installs it unwrapped on the built schema.
  resolveType: assetTypeName,
})
export abstract class AssetInterface {
  @Field(() => ID, { description: 'Global id: names the type, the stage it was read from and the asset.' }) id!: string;
  @Field(() => ID, { description: 'The asset’s UUID: the same on every stage it reaches (archives, promotions, the CLI use it).' })
  assetId!: string;
  @Field(() => AssetTypeEnum, { description: 'The asset type.' }) type!: AssetType;
  @Field({ description: 'The asset’s name (unique per type on a stage).' }) name!: string;
  @Field({ description: 'Free text.' }) description!: string;
  @Field(() => String, { nullable: true, description: 'Owning team (the name of a TEAM asset).' }) team!: string | null;
  @Field(() => String, { nullable: true, description: 'Version (APIs).' }) version!: string | null;
  @Field(() => GraphQLJSONObject, { description: 'Type-specific settings, defaults filled in. Secure values are never included.' })
  spec!: Record<string, unknown>;
  @Field({ description: 'SHA-256 of the normalised content; equal content, equal checksum, on any stage.' }) checksum!: string;
  @Field({ description: 'When the asset was created on this stage.' }) createdAt!: Date;
  @Field({ description: 'When the asset last changed on this stage.' }) updatedAt!: Date;
  @Field({ description: 'Who created it on this stage.' }) createdBy!: string;
  @Field({ description: 'Who changed it last on this stage.' }) updatedBy!: string;
}

@ObjectType({ description: 'The assets an asset references, required and optional.' })
export class AssetDependencies {
  @Field(() => [AssetInterface], { description: 'Always travel with the asset.' }) required!: ListedAsset[];
  @Field(() => [AssetInterface], { description: 'Travel when selected.' }) optional!: ListedAsset[];
}

@ObjectType({ description: 'An operation of an API.' })
export class Route {
  @Field({ description: 'HTTP method.' }) method!: string;
  @Field({ description: 'Path below the API’s base path.' }) path!: string;
  @Field({ description: 'What the operation does.' }) description!: string;
}

@KeyedById()
@ObjectType({ implements: [NodeInterface, AssetInterface], description: 'An API: the service a gateway serves.' })
export class ApiAsset extends AssetInterface {
  @Field({ description: 'REST, SOAP, GRAPHQL or WEBSOCKET.' }) apiType!: string;
  @Field({ description: 'Path prefix the gateway serves the API under.' }) basePath!: string;
  @Field(() => [Route], { description: 'The operations the API exposes.' }) routes!: Route[];
  @Field(() => [String], { description: 'Free labels for search.' }) tags!: string[];
  @Field({ description: 'Lifecycle state: BETA, STABLE or DEPRECATED.' }) maturity!: string;
  @Field(() => Int, { nullable: true, description: 'Position in its version set: 1, 2, 3 …' }) systemVersion!: number | null;
  @Field(() => ID, { nullable: true, description: 'The version set this API version belongs to (shared by versions 1, 2, 3 …); null for an API without versions.' }) versionSetId!: string | null;
}

@KeyedById()
@ObjectType({ implements: [NodeInterface, AssetInterface], description: 'A rule an API applies to its traffic.' })
export class PolicyAsset extends AssetInterface {
  @Field({ description: 'What the policy does, e.g. rate-limit or cors.' }) kind!: string;
  @Field({ description: 'When it runs: on the REQUEST, the RESPONSE or an ERROR.' }) phase!: string;
  @Field(() => GraphQLJSONObject, { description: 'The policy’s settings, by kind.' }) config!: Record<string, unknown>;
}

@KeyedById()
@ObjectType({ implements: [NodeInterface, AssetInterface], description: 'A named value, bound to a stage or unbound (the default).' })
export class Alias extends AssetInterface {
  @Field(() => String, { nullable: true, description: 'Null when the alias is secure: secure values are never returned.' })
  value!: string | null;
  @Field(() => String, { nullable: true, description: 'The stage this variant is for; null = unbound.' }) stage!: string | null;
  @Field({ description: 'Whether the value is a secret (stored encrypted, never returned).' }) secure!: boolean;
  @Field({ description: `The alias kind: ${aliasKinds.join(', ')}.` }) aliasKind!: string;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'The kind’s structured attributes (secure ones never included); null when the alias holds a value only.' })
  attributes!: Record<string, unknown> | null;
}

@KeyedById()
@ObjectType({ implements: [NodeInterface, AssetInterface], description: 'A consumer application of APIs, identified by its keys or client ids.' })
export class ApplicationAsset extends AssetInterface {
  @Field(() => String, { nullable: true, description: 'Whom to contact about the application.' }) contactEmail!: string | null;
  @Field(() => [String], { description: 'API keys, client ids or host names that identify the application’s requests.' }) identifiers!: string[];
  @Field(() => [String], { description: 'OAuth redirect URIs.' }) redirectUris!: string[];
}

@KeyedById()
@ObjectType({ implements: [NodeInterface, AssetInterface], description: 'A bundle of APIs offered to applications under plans.' })
export class PackageAsset extends AssetInterface {
  @Field({ description: 'Who may see the package: PUBLIC or PRIVATE.' }) visibility!: string;
  @Field(() => [String], { description: 'Free labels for search.' }) tags!: string[];
}

@ObjectType({ description: 'A number of requests per time window.' })
export class RateLimit {
  @Field(() => Int, { description: 'Requests allowed per window.' }) requests!: number;
  @Field(() => Int, { description: 'The window, in seconds.' }) perSeconds!: number;
}

@KeyedById()
@ObjectType({ implements: [NodeInterface, AssetInterface], description: 'Terms of use of a package: a rate limit and a price.' })
export class PlanAsset extends AssetInterface {
  @Field(() => RateLimit, { description: 'How many requests the plan allows.' }) rateLimit!: RateLimit;
  @Field(() => Float, { description: 'Price per billing period.' }) price!: number;
  @Field({ description: 'Currency of the price (ISO 4217).' }) currency!: string;
}

@KeyedById()
@ObjectType({ implements: [NodeInterface, AssetInterface], description: 'An application’s subscription to a package under a plan.' })
export class SubscriptionAsset extends AssetInterface {
  @Field({ description: 'ACTIVE, PENDING or SUSPENDED.' }) status!: string;
}

@KeyedById()
@ObjectType({ implements: [NodeInterface, AssetInterface], description: 'A team; its groups are the GROUP assets it requires.' })
export class TeamAsset extends AssetInterface {
  @Field(() => String, { nullable: true, description: 'The team’s contact address.' }) email!: string | null;
}

@KeyedById()
@ObjectType({ implements: [NodeInterface, AssetInterface], description: 'Asset types without typed fields of their own.' })
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
    this.assetId = asset.id;
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
    view = new View({ ...asset, spec: { ...asset.spec, value } }, { ...spec, value, aliasKind: kind, attributes: asset.spec.attributes ?? null });
  } else {
    view = new View(asset, asset.spec);
  }
  Object.defineProperty(asset, VIEW, { value: view });
  return view;
}

export const AssetConnection = ConnectionType('Asset', () => AssetInterface);

export enum AssetOrderField {
  NAME = 'NAME',
  TYPE = 'TYPE',
  UPDATED_AT = 'UPDATED_AT',
}
export const AssetOrder = OrderInput('Asset', 'assets', AssetOrderField, { NAME: 'Case-insensitive.', TYPE: 'Then by name.', UPDATED_AT: 'Last change.' });

@InputType('AssetFilter', { description: 'Which assets: all conditions must hold.' })
export class AssetFilterInput {
  @Field(() => String, { nullable: true, description: 'Matches any string attribute; `*` wildcards, `a|b` alternatives.' })
  keyword?: string | null;
  @Field(() => [AssetTypeEnum], { nullable: true, description: 'Only assets of these types.' }) types?: AssetType[] | null;
  @Field(() => [String], { nullable: true, description: 'Only assets of these teams.' }) teams?: string[] | null;
}

@InputType({ description: 'A new asset.' })
export class CreateAssetInput {
  @Field(() => AssetTypeEnum, { description: 'The asset type.' }) type!: AssetType;
  @Field({ description: 'The asset’s name (unique per type).' }) name!: string;
  @Field(() => String, { nullable: true, description: 'Free text.' }) description?: string | null;
  @Field(() => String, { nullable: true, description: 'Owning team: the name of a TEAM asset.' }) team?: string | null;
  @Field(() => String, { nullable: true, description: 'Required for APIs.' }) version?: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Validated per type; unknown fields are refused.' })
  spec?: Record<string, unknown> | null;
  @Field(() => [ID], { nullable: true, description: 'Assets this one depends on; the kind follows from the two types.' })
  references?: string[] | null;
}

@InputType({ description: 'Fields of an asset to change; the others stay.' })
export class UpdateAssetInput {
  @Field(() => String, { nullable: true, description: 'New name.' }) name?: string | null;
  @Field(() => String, { nullable: true, description: 'New description.' }) description?: string | null;
  @Field(() => String, { nullable: true, description: 'New owning team (the name of a TEAM asset).' }) team?: string | null;
  @Field(() => String, { nullable: true, description: 'New version (APIs).' }) version?: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Replaces the whole spec.' }) spec?: Record<string, unknown> | null;
  @Field(() => [ID], { nullable: true, description: 'Replaces all references.' }) references?: string[] | null;
}

