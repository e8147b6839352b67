// The 10,000-asset catalog with dependencies that the archive and promotion benchmarks move:
// teams with groups, policies, unbound and prod-bound aliases, APIs requiring 2–3 policies and an
// alias (some with a second version), plans, packages, and applications referencing APIs.
import { inParallel, progress, range } from './lib.mjs';

/** Writes in flight while building (the pool holds 10 connections). */
const BUILD_CONCURRENCY = 8;
const pad = (i) => String(i).padStart(4, '0');

/**
 * The catalog's shape: applications fill it up to `total` assets, counting the prod-bound alias
 * variants or not (a promotion of "everything" sends those as their unbound alias's content).
 */
export function catalogShape({ total = 10_000, countStageBound }) {
  const shape = {
    total,
    teams: 5, // each a TEAM referencing its GROUP
    policies: 400,
    unboundAliases: 320, // plus stageBoundAliases variants (stage prod) of the first names
    stageBoundAliases: 80,
    apis: 4000,
    secondVersionEvery: 4, // every 4th API also gets version 1.1.0
    plans: 100, // each requires a policy
    packages: 200, // each requires 2 APIs, a plan and a policy
  };
  shape.applications =
    shape.total -
    2 * shape.teams -
    shape.policies -
    shape.unboundAliases -
    (countStageBound ? shape.stageBoundAliases : 0) -
    shape.apis -
    Math.ceil(shape.apis / shape.secondVersionEvery) -
    shape.plans -
    shape.packages;
  return shape;
}

/**
 * Creates the catalog through the asset service, BUILD_CONCURRENCY writes at a time; keeps only
 * ids. `prefix` names the APIs; the catalog must end up holding `expectedTotal` assets.
 */
export async function buildCatalog(app, catalog, { prefix, expectedTotal }) {
  const { assets, users } = app.services;
  const actor = await users.firstSuperAdmin();
  const byType = {};
  let done = 0;
  const create = async (input) => {
    const asset = await assets.create(actor, input);
    byType[input.type] = (byType[input.type] ?? 0) + 1;
    if (++done % 2500 === 0) progress(`  ${done} assets`);
    return asset.id;
  };
  const parallel = (n, fn) => inParallel(range(n), fn, BUILD_CONCURRENCY);
  const teamNames = ['Payments', 'Logistics', 'Identity', 'Catalogue', 'Partner Integrations'].slice(0, catalog.teams);
  const teamOf = (i) => teamNames[i % teamNames.length];

  for (const team of teamNames) {
    const slug = team.toLowerCase().replace(/\W+/g, '-');
    const group = await create({ type: 'GROUP', name: `${team} Developers`, team, spec: { members: [`${slug}-lead`, `${slug}-dev`] } });
    await create({ type: 'TEAM', name: team, description: `Owns the ${team} APIs`, spec: { email: `${slug}@example.com` }, references: [group] });
  }

  const kinds = ['AUTHENTICATION', 'RATE_LIMIT', 'CORS', 'IP_FILTER', 'TRANSFORMATION', 'LOGGING'];
  const policies = await parallel(catalog.policies, (i) =>
    create({
      type: 'POLICY',
      name: `Policy ${pad(i)}`,
      description: `${kinds[i % kinds.length].toLowerCase().replace('_', ' ')} policy ${i}`,
      team: teamOf(i),
      spec: { kind: kinds[i % kinds.length], config: { index: i, requests: 100 + i } },
    }),
  );

  const aliases = await parallel(catalog.unboundAliases, (i) =>
    create({
      type: 'ALIAS',
      name: `backend-${pad(i)}`,
      description: `Upstream ${i} (unbound default)`,
      team: teamOf(i),
      spec: { kind: 'ENDPOINT', value: `http://backend-${pad(i)}.internal:8080` },
    }),
  );
  await parallel(catalog.stageBoundAliases, (i) =>
    create({
      type: 'ALIAS',
      name: `backend-${pad(i)}`,
      description: `Upstream ${i} on prod`,
      team: teamOf(i),
      spec: { kind: 'ENDPOINT', value: `http://backend-${pad(i)}.prod.internal:8080`, stage: 'prod' },
    }),
  );

  // APIs: 2–3 policies and an alias each; every 4th also gets a second version.
  const apis = await parallel(catalog.apis, async (i) => {
    const refs = new Set([policies[(i * 7) % policies.length], policies[(i * 7 + 1) % policies.length]]);
    if (i % 2 === 0) refs.add(policies[(i * 7 + 50) % policies.length]);
    refs.add(aliases[i % aliases.length]);
    const api = await create({
      type: 'API',
      name: `${prefix} API ${pad(i)}`,
      version: '1.0.0',
      description: `${prefix} API number ${i}`,
      team: teamOf(i),
      spec: {
        apiType: 'REST',
        basePath: `/api/${pad(i)}`,
        routes: [
          { method: 'GET', path: '/items', description: 'List items' },
          { method: 'POST', path: '/items', description: 'Create an item' },
          { method: 'GET', path: '/items/{id}', description: 'Get an item' },
        ],
        tags: [teamOf(i).toLowerCase(), `group-${i % 10}`],
      },
      references: [...refs],
    });
    if (i % catalog.secondVersionEvery === 0) {
      await assets.createApiVersion(actor, api, '1.1.0');
      byType.API++;
      done++;
    }
    return api;
  });

  const plans = await parallel(catalog.plans, (i) =>
    create({
      type: 'PLAN',
      name: `Plan ${pad(i)}`,
      team: teamOf(i),
      spec: { rateLimit: { requests: 100 * (1 + (i % 10)), perSeconds: 60 }, price: i % 5, currency: 'EUR' },
      references: [policies[(i * 3) % policies.length]],
    }),
  );
  await parallel(catalog.packages, (i) =>
    create({
      type: 'PACKAGE',
      name: `Package ${pad(i)}`,
      team: teamOf(i),
      spec: { visibility: i % 4 === 0 ? 'PRIVATE' : 'PUBLIC', tags: [`tier-${i % 3}`] },
      references: [
        ...new Set([apis[(i * 11) % apis.length], apis[(i * 11 + 5) % apis.length]]),
        plans[i % plans.length],
        policies[(i * 13) % policies.length],
      ],
    }),
  );

  // Applications: a third reference no API, the others one or two.
  await parallel(catalog.applications, (j) => {
    const refs = new Set();
    if (j % 3 !== 0) refs.add(apis[(j * 5) % apis.length]);
    if (j % 3 === 2) refs.add(apis[(j * 5 + 17) % apis.length]);
    return create({
      type: 'APPLICATION',
      name: `Application ${pad(j)}`,
      team: teamOf(j),
      spec: { contactEmail: `app-${pad(j)}@example.com`, identifiers: [`app-${pad(j)}`] },
      references: [...refs],
    });
  });

  const total = (await assets.search({}, { first: 1 })).totalCount;
  if (total !== expectedTotal) throw new Error(`catalog has ${total} assets, expected ${expectedTotal}`);
  return { total, byType };
}
