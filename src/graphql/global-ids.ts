/**
 * Global ids at the edge of the schema, installed on the built schema like the remote-answer
 * wrapper (plain synchronous wrappers, no global middleware):
 * - out: the `id` of every Node type is the global id naming the stage the object was read from —
 *   this instance for its own rows, the remote stage (by the name this instance knows it by) for
 *   a remote answer, whose own global id is re-encoded;
 * - in: every `ID` argument (also inside input objects) reaches the resolvers as the raw key,
 *   given either as the key itself or as a global id of the stage the field reads.
 * `node` and `nodes` take ids of any stage and decode them themselves.
 */
import {
  getNullableType,
  isInputObjectType,
  isListType,
  isObjectType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import type { Context } from './context.js';
import { remoteStageOf } from './federation/remote-fields.js';
import { decodeGlobalId, encodeGlobalId, localKey, type NodeKind } from './node-id.js';

/** The kind an id argument names, by its name (inside input objects too). */
const kindByArgument: Record<string, NodeKind> = {
  assetIds: 'Asset',
  optionalIds: 'Asset',
  references: 'Asset',
  fromId: 'Asset',
  assetId: 'Asset',
  ids: 'Asset',
  promotionId: 'Promotion',
  rollbackId: 'Rollback',
  serviceVersionId: 'ServiceVersion',
  instanceId: 'GatewayInstance',
  profileIds: 'AccessProfile',
  memberIds: 'User',
};

/** The kind an argument called `id` names, by the field it belongs to. */
const kindOfIdByField: Record<string, NodeKind> = {
  asset: 'Asset',
  updateAsset: 'Asset',
  deleteAsset: 'Asset',
  promotion: 'Promotion',
  deletePromotion: 'Promotion',
  rollback: 'Rollback',
  deleteRollback: 'Rollback',
  updateUser: 'User',
  deleteUser: 'User',
  revokeApiToken: 'ApiToken',
  revokeGatewayInstanceToken: 'GatewayInstanceToken',
  importReport: 'ImportReport',
  restoreImportBackup: 'ImportBackup',
  updateAccessProfile: 'AccessProfile',
  deleteAccessProfile: 'AccessProfile',
  updateUserGroup: 'UserGroup',
  deleteUserGroup: 'UserGroup',
};

/** Fields that take ids of any stage. */
const ANY_STAGE = new Set(['Query.node', 'Query.nodes']);
/** Input fields naming an object of another stage: a rollback's promotion was made on the source stage. */
const ANY_STAGE_INPUT = new Set(['RollbackFilter.promotionId']);

/** Does a value of this input type hold an `ID` anywhere? */
function holdsId(type: GraphQLInputType, seen = new Set<GraphQLInputType>()): boolean {
  const named = getNullableType(type);
  if (isListType(named)) return holdsId(named.ofType, seen);
  if (isInputObjectType(named)) {
    if (seen.has(named)) return false;
    seen.add(named);
    return Object.values(named.getFields()).some((f) => holdsId(f.type, seen));
  }
  return named.toString() === 'ID';
}

/** The value with every `ID` in it replaced by its raw key (for a field reading `stage`). */
function localize(value: unknown, type: GraphQLInputType, name: string, stage: string | null, kind: NodeKind | undefined): unknown {
  if (value === null || value === undefined) return value;
  const named = getNullableType(type);
  if (isListType(named)) return (value as unknown[]).map((item) => localize(item, named.ofType, name, stage, kind));
  if (isInputObjectType(named)) {
    const fields = named.getFields();
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        fields[k] ? localize(v, fields[k].type, `${name}.${k}`, ANY_STAGE_INPUT.has(`${named.name}.${k}`) ? null : stage, kindByArgument[k]) : v,
      ]),
    );
  }
  return named.toString() === 'ID' ? localKey(name, value as string, stage, kind) : value;
}

/** Arguments with their ids as raw keys of `stage`. */
export function localizeArguments(field: Pick<GraphQLField<unknown, unknown>, 'name' | 'args'>, args: Record<string, unknown>, stage: string): Record<string, unknown> {
  const out = { ...args };
  for (const arg of field.args) {
    if (out[arg.name] === undefined || !holdsId(arg.type)) continue;
    const kind = arg.name === 'id' ? kindOfIdByField[field.name] : kindByArgument[arg.name];
    out[arg.name] = localize(out[arg.name], arg.type, arg.name, stage, kind);
  }
  return out;
}

/** The stage a field reads: a remote Stage's fields read that stage, everything else this one. */
function stageRead(type: GraphQLObjectType, root: unknown, context: Context): string {
  const stage = root as { isLocal?: boolean; name?: string } | null;
  return type.name === 'Stage' && stage && stage.isLocal === false && stage.name ? stage.name : context.services.stage;
}

/** The kind of a Node type's ids: every Asset type shares one. */
const kindOf = (type: GraphQLObjectType): NodeKind => (type.getInterfaces().some((i) => i.name === 'Asset') ? 'Asset' : (type.name as NodeKind));

/** Payloads that are not the object itself but carry its id: the same global id as the object's. */
const idOfKind: Record<string, NodeKind> = { CreatedApiToken: 'ApiToken', CreatedGatewayToken: 'GatewayInstanceToken' };

export function withGlobalIds(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    if (type.getInterfaces().some((i) => i.name === 'Node') || idOfKind[type.name]) {
      const kind = idOfKind[type.name] ?? kindOf(type);
      type.getFields().id!.resolve = (root: { id: unknown }, _args, context: Context) => {
        const key = String(root.id);
        const remote = remoteStageOf(root);
        if (remote === null) return encodeGlobalId(kind, context.services.stage, key);
        // The remote's own global id (naming the stage as it calls itself), or a raw key from an older one.
        const theirs = decodeGlobalId(key);
        return encodeGlobalId(theirs?.kind ?? kind, remote, theirs?.key ?? key);
      };
    }
    for (const field of Object.values(type.getFields())) {
      if (ANY_STAGE.has(`${type.name}.${field.name}`) || !field.args.some((a: GraphQLArgument) => holdsId(a.type))) continue;
      const wrap = (inner: GraphQLFieldResolver<unknown, Context> | undefined): GraphQLFieldResolver<unknown, Context> | undefined =>
        inner && ((root, args, context, info) => inner(root, localizeArguments(field, args, stageRead(type, root, context)), context, info));
      field.resolve = wrap(field.resolve as GraphQLFieldResolver<unknown, Context>) ?? field.resolve;
      field.subscribe = wrap(field.subscribe as GraphQLFieldResolver<unknown, Context> | undefined);
    }
  }
  return schema;
}
