import 'reflect-metadata';
import { graphql, type GraphQLObjectType } from 'graphql';
import { Arg, Authorized, buildSchema, Ctx, Field, FieldResolver, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { describe, expect, it } from 'vitest';
import { directResolvers } from '../../src/graphql/direct-resolvers.js';

interface Ctx {
  roles: string[];
  suffix: string;
}

@ObjectType()
class Item {
  @Field() name!: string;
  // Nullable: a refusal nulls the field alone, so every refusal shows in the errors.
  @Authorized('ADMIN') @Field(() => String, { nullable: true }) secret!: string;
}

@Resolver(() => Item)
class ItemResolver {
  @Query(() => [Item])
  items(): Item[] {
    return [{ name: 'a', secret: 's' }];
  }

  @FieldResolver(() => String)
  shout(@Root() item: { name: string }, @Ctx() ctx: Ctx): string {
    return `${item.name.toUpperCase()}${ctx.suffix}`;
  }

  @Authorized('ADMIN')
  @FieldResolver(() => String, { nullable: true })
  hidden(): string {
    return 'h';
  }

  @FieldResolver(() => String)
  repeat(@Root() item: Item, @Arg('times') times: number): string {
    return item.name.repeat(times);
  }
}

async function schemas() {
  const options = { resolvers: [ItemResolver] as const, authChecker: ({ context }: { context: Ctx }, roles: string[]) => roles.every((r) => context.roles.includes(r)), validate: false };
  const original = await buildSchema(options);
  const direct = directResolvers(await buildSchema(options), [ItemResolver]);
  return { original, direct };
}

const QUERY = '{ items { name secret shout hidden repeat(times: 2) } }';

describe('direct resolvers', () => {
  it('replace only unguarded fields whose resolver takes root, context or info', async () => {
    const { original, direct } = await schemas();
    const before = (original.getType('Item') as GraphQLObjectType).getFields();
    const after = (direct.getType('Item') as GraphQLObjectType).getFields();
    const replaced = Object.keys(after).filter((name) => after[name]!.resolve !== before[name]!.resolve && after[name]!.resolve?.toString() !== before[name]!.resolve?.toString());
    expect(replaced.sort()).toEqual(['name', 'shout']);
    // Guarded fields and a field with an argument keep type-graphql's resolver.
    expect(after.secret!.resolve!.toString()).toBe(before.secret!.resolve!.toString());
    expect(after.hidden!.resolve!.toString()).toBe(before.hidden!.resolve!.toString());
    expect(after.repeat!.resolve!.toString()).toBe(before.repeat!.resolve!.toString());
  });

  it('answer as type-graphql does, guards included', async () => {
    const { original, direct } = await schemas();
    for (const roles of [['ADMIN'], []]) {
      const contextValue: Ctx = { roles, suffix: '!' };
      const expected = await graphql({ schema: original, source: QUERY, contextValue });
      const actual = await graphql({ schema: direct, source: QUERY, contextValue });
      expect(JSON.parse(JSON.stringify(actual))).toEqual(JSON.parse(JSON.stringify(expected)));
    }
    const refused = await graphql({ schema: direct, source: QUERY, contextValue: { roles: [], suffix: '!' } });
    expect(refused.errors?.map((e) => e.path?.join('.')).sort()).toEqual(['items.0.hidden', 'items.0.secret']);
    const admitted = await graphql({ schema: direct, source: QUERY, contextValue: { roles: ['ADMIN'], suffix: '!' } });
    expect(admitted.errors).toBeUndefined();
    expect(admitted.data).toEqual({ items: [{ name: 'a', secret: 's', shout: 'A!', hidden: 'h', repeat: 'aa' }] });
  });
});
