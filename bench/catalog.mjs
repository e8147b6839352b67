/**
 * Catalog benchmark: what the portal's asset listing costs through Stagecraft, compared with the
 * bare SQL it runs.
 *
 * 1. Builds a catalog of 1,000 assets in-process (teams and groups, policies, aliases, APIs with
 *    2–3 policies and an alias, some with a second version, applications referencing APIs).
 * 2. Server: the portal query (100 APIs with team, dependencies, dependents and versions) over
 *    real HTTP to the in-process server, sequentially, after a warm-up.
 * 3. Baseline: the exact SQL statements (with parameters) one such request sent, captured with
 *    the data source's statement counter, replayed in the same order on one plain `pg.Client`.
 *
 * The difference is what HTTP, GraphQL execution, TypeORM and the DataLoaders add on top of the
 * database round trips. Uses DATABASE_URL when set (a fresh `stagecraft_bench_<random>` database,
 * dropped at the end), otherwise an embedded PostgreSQL in a temporary directory.
 * BENCH_CPU_PROFILE=<file> writes a CPU profile of the server rounds only (bench/lib.mjs).
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { Pool } from 'undici';
import { statementCounter } from '../dist/src/db/data-source.js';
import { cpuProfiler, inParallel, login, progress, range, round, startBenchServer, withCleanup } from './lib.mjs';

export const name = 'catalog';

const ADMIN_PASSWORD = 'bench-admin-password';
const PAGE_SIZE = 100;

/** The catalog: 10 + 100 + 100 + 450 + 150 + 190 = 1,000 assets. */
const CATALOG = {
  total: 1000,
  teams: 5, // each a TEAM referencing its GROUP
  policies: 100,
  unboundAliases: 80, // plus stageBoundAliases variants (stage prod) of the first names
  stageBoundAliases: 20,
  apis: 450,
  secondVersionEvery: 3, // every 3rd API also gets version 1.1.0
};
CATALOG.applications =
  CATALOG.total -
  2 * CATALOG.teams -
  CATALOG.policies -
  CATALOG.unboundAliases -
  CATALOG.stageBoundAliases -
  CATALOG.apis -
  Math.ceil(CATALOG.apis / CATALOG.secondVersionEvery);

/** Measurement bounds: the whole run stays within ~3 minutes on 2 cores. */
const MEASURE = { warmup: 20, iterations: 150, rounds: 3, maxSecondsPerSide: 30 };

const PORTAL_QUERY = `query Portal {
  assets(first: ${PAGE_SIZE}, filter: { types: [API] }) {
    totalCount
    edges { node {
      id name version team
      teamAsset { name }
      dependencies { required { id name type } optional { id name } }
      dependents { id }
      ... on ApiAsset { versions { id version } }
    } }
  }
}`;


export const run = () => withCleanup(benchmark);

async function benchmark(cleanup) {
  const runStarted = performance.now();
  const { app, database } = await startBenchServer(cleanup, { env: { STAGECRAFT_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  const graphqlUrl = `${app.url}/graphql`;

  const buildStarted = performance.now();
  const built = await buildCatalog(app);
  const buildSeconds = (performance.now() - buildStarted) / 1000;
  progress(`catalog built: ${built.total} assets in ${buildSeconds.toFixed(1)}s`);

  const token = await login(graphqlUrl, ADMIN_PASSWORD);
  const portal = portalRequest(graphqlUrl, token);

  // 1. The server, over HTTP.
  const first = await portal();
  const { totalCount, edges } = first.data.assets;
  const expectedApis = built.byType.API;
  if (totalCount !== expectedApis || edges.length !== PAGE_SIZE) {
    throw new Error(`portal query returned totalCount ${totalCount} and ${edges.length} edges; expected ${expectedApis} and ${PAGE_SIZE}`);
  }
  for (let i = 1; i < MEASURE.warmup; i++) await portal();

  // 2. The statements one request sends (captured now, while no other request is running).
  const { statements } = await statementCounter(app.services.db).record(() => portal());
  const tokenStatements = statements.filter((s) => /\baccess_tokens\b/.test(s.query)).length;
  const writes = statements.filter((s) => !/^\s*(select|with)\b/i.test(s.query)).length;
  progress(`one portal request sends ${statements.length} SQL statements (${tokenStatements} for the token lookup)`);

  // 3. The same statements, replayed directly on one connection.
  const client = new pg.Client({ connectionString: database.url, application_name: 'stagecraft-bench' });
  await client.connect();
  cleanup.defer('replay connection', () => client.end());
  const serverVersion = (await client.query('SHOW server_version')).rows[0].server_version;
  const replay = async () => {
    let rows = 0;
    for (const s of statements) rows += (await client.query({ text: s.query, values: s.parameters })).rowCount ?? 0;
    return rows;
  };
  const rowsPerReplay = await replay();
  for (let i = 1; i < MEASURE.warmup; i++) await replay();

  // Rounds alternate the two sides, so load from elsewhere on the shared machine weighs on both.
  const serverSamples = [];
  const directSamples = [];
  const profiler = cpuProfiler();
  cleanup.defer('cpu profile', () => profiler.save());
  const rounds = [];
  for (let r = 1; r <= MEASURE.rounds; r++) {
    const s = await profiler.profiled(() => measure(portal, MEASURE.iterations, MEASURE.maxSecondsPerSide));
    const d = await measure(replay, s.length, MEASURE.maxSecondsPerSide);
    serverSamples.push(...s);
    directSamples.push(...d);
    const round_ = { server: summarise(s), direct: summarise(d) };
    round_.ratioP50 = round(round_.server.p50 / round_.direct.p50, 2);
    rounds.push(round_);
    progress(`round ${r}/${MEASURE.rounds}: server p50 ${round_.server.p50} ms (n ${s.length}), direct SQL p50 ${round_.direct.p50} ms (n ${d.length}): ratio ${round_.ratioP50}`);
  }
  const server = summarise(serverSamples);
  const direct = summarise(directSamples);

  const ratio = (a, b) => (b > 0 ? round(a / b, 2) : null);
  return {
    benchmark: name,
    date: new Date().toISOString(),
    durationSeconds: round((performance.now() - runStarted) / 1000, 1),
    environment: {
      node: process.version,
      nodeOptions: process.env.NODE_OPTIONS ?? '',
      platform: `${os.platform()} ${os.arch()}`,
      cpus: os.availableParallelism?.() ?? os.cpus().length,
      database: database.mode,
      postgres: serverVersion,
    },
    catalog: { assets: built.total, byType: built.byType, buildSeconds: round(buildSeconds, 1) },
    query: { text: PORTAL_QUERY, first: PAGE_SIZE, totalCount },
    statementsPerRequest: statements.length,
    tokenLookupStatements: tokenStatements,
    writeStatements: writes,
    rowsPerRequest: rowsPerReplay,
    statements: statements.map((s) => ({ query: s.query, parameterCount: s.parameters.length })),
    server,
    direct,
    ratio: { p50: ratio(server.p50, direct.p50), p99: ratio(server.p99, direct.p99), mean: ratio(server.mean, direct.mean) },
    rounds,
    notes: [
      'server: POST /graphql over HTTP (keep-alive) to the in-process server, one request at a time, response body read and checked',
      `direct: the statements one request sent, token lookup included (${tokenStatements} of ${statements.length}), replayed in order on one pg.Client`,
      'the server may run DataLoader batches concurrently on its pool; the replay runs them one after another',
    ],
  };
}

/** A fresh database: on DATABASE_URL's server when set, else on an embedded cluster under `tmp`. */

/** Creates the catalog through the asset service, a few writes at a time. */
async function buildCatalog(app) {
  const { assets, users } = app.services;
  const actor = await users.firstSuperAdmin();
  const byType = {};
  const create = async (input) => {
    const asset = await assets.create(actor, input);
    byType[input.type] = (byType[input.type] ?? 0) + 1;
    return asset;
  };
  const teamNames = ['Payments', 'Logistics', 'Identity', 'Catalogue', 'Partner Integrations'].slice(0, CATALOG.teams);
  const teamOf = (i) => teamNames[i % teamNames.length];

  for (const team of teamNames) {
    const slug = team.toLowerCase().replace(/\W+/g, '-');
    const group = await create({ type: 'GROUP', name: `${team} Developers`, team, spec: { members: [`${slug}-lead`, `${slug}-dev`] } });
    await create({ type: 'TEAM', name: team, description: `Owns the ${team} APIs`, spec: { email: `${slug}@example.com` }, references: [group.id] });
  }

  const kinds = ['AUTHENTICATION', 'RATE_LIMIT', 'CORS', 'IP_FILTER', 'TRANSFORMATION', 'LOGGING'];
  const policies = await inParallel(range(CATALOG.policies), (i) =>
    create({
      type: 'POLICY',
      name: `Policy ${pad(i)}`,
      description: `${kinds[i % kinds.length].toLowerCase().replace('_', ' ')} policy ${i}`,
      team: teamOf(i),
      spec: { kind: kinds[i % kinds.length], config: { index: i, requests: 100 + i } },
    }),
  );

  const aliases = await inParallel(range(CATALOG.unboundAliases), (i) =>
    create({
      type: 'ALIAS',
      name: `backend-${pad(i)}`,
      description: `Upstream ${i} (unbound default)`,
      team: teamOf(i),
      spec: { kind: 'ENDPOINT', value: `http://backend-${pad(i)}.internal:8080` },
    }),
  );
  await inParallel(range(CATALOG.stageBoundAliases), (i) =>
    create({
      type: 'ALIAS',
      name: `backend-${pad(i)}`,
      description: `Upstream ${i} on prod`,
      team: teamOf(i),
      spec: { kind: 'ENDPOINT', value: `http://backend-${pad(i)}.prod.internal:8080`, stage: 'prod' },
    }),
  );

  // APIs: 2–3 policies and an alias each; every 3rd also gets a second version.
  const apis = await inParallel(range(CATALOG.apis), async (i) => {
    const refs = new Set([policies[(i * 7) % policies.length].id, policies[(i * 7 + 1) % policies.length].id]);
    if (i % 2 === 0) refs.add(policies[(i * 7 + 50) % policies.length].id);
    refs.add(aliases[i % aliases.length].id);
    const api = await create({
      type: 'API',
      name: `Catalog API ${pad(i)}`,
      version: '1.0.0',
      description: `Catalog API number ${i}`,
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
    if (i % CATALOG.secondVersionEvery === 0) {
      await assets.createApiVersion(actor, api.id, '1.1.0');
      byType.API++;
    }
    return api;
  });

  // Applications: a third reference no API, the others one or two.
  await inParallel(range(CATALOG.applications), (j) => {
    const refs = new Set();
    if (j % 3 !== 0) refs.add(apis[(j * 5) % apis.length].id);
    if (j % 3 === 2) refs.add(apis[(j * 5 + 17) % apis.length].id);
    return create({
      type: 'APPLICATION',
      name: `Application ${pad(j)}`,
      team: teamOf(j),
      spec: { contactEmail: `app-${pad(j)}@example.com`, identifiers: [`app-${pad(j)}`] },
      references: [...refs],
    });
  });

  const total = (await assets.search({}, { first: 1 })).totalCount;
  if (total !== CATALOG.total) throw new Error(`catalog has ${total} assets, expected ${CATALOG.total}`);
  return { total, byType };
}


/**
 * One portal request: POST, read the whole body, parse it, fail on any error. Sent with undici's
 * `request` on a keep-alive pool rather than `fetch`: the client runs in this process, and fetch's
 * WHATWG machinery (Request, Headers, web streams) would charge a millisecond of client CPU and its
 * garbage to the server's side of the ratio.
 */
function portalRequest(graphqlUrl, token) {
  const url = new URL(graphqlUrl);
  const client = new Pool(url.origin, { connections: 1 });
  const options = {
    path: url.pathname,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: PORTAL_QUERY }),
  };
  return async () => {
    const res = await client.request(options);
    const body = await res.body.json();
    if (res.statusCode !== 200 || body.errors || !body.data?.assets) {
      throw new Error(`portal query failed (HTTP ${res.statusCode}): ${JSON.stringify(body.errors ?? body).slice(0, 500)}`);
    }
    return body;
  };
}

/** Sequential timings of `fn` in ms: `count` of them, or as many as fit in `maxSeconds`. */
async function measure(fn, count, maxSeconds) {
  const samples = [];
  const deadline = performance.now() + maxSeconds * 1000;
  while (samples.length < count && performance.now() < deadline) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return samples;
}

function summarise(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  const mean = sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
  return { n: sorted.length, p50: round(at(50), 2), p99: round(at(99), 2), mean: round(mean, 2), min: round(sorted[0], 2), max: round(sorted.at(-1), 2) };
}

export function report(r) {
  const row = (label, cells) => `${label.padEnd(22)}${cells.map((c) => String(c).padStart(10)).join('')}`;
  const fmt = (v) => (v == null ? '—' : v.toFixed(2));
  return [
    `catalog: portal query, ${r.query.first} of ${r.query.totalCount} APIs in a ${r.catalog.assets.toLocaleString('en')}-asset catalog`,
    `  PostgreSQL ${r.environment.postgres} (${r.environment.database}), Node ${r.environment.node}${r.environment.nodeOptions ? ` (NODE_OPTIONS ${r.environment.nodeOptions})` : ""}, ${r.environment.cpus} CPUs`,
    `  ${r.statementsPerRequest} SQL statements per request (incl. ${r.tokenLookupStatements} for the bearer-token lookup), ${r.rowsPerRequest} rows`,
    '',
    row('', ['p50 ms', 'p99 ms', 'mean ms', 'n']),
    row('server (HTTP)', [fmt(r.server.p50), fmt(r.server.p99), fmt(r.server.mean), r.server.n]),
    row('direct SQL (pg)', [fmt(r.direct.p50), fmt(r.direct.p99), fmt(r.direct.mean), r.direct.n]),
    row('ratio server/direct', [fmt(r.ratio.p50), fmt(r.ratio.p99), fmt(r.ratio.mean), '']),
    '',
    `rounds (server p50 / direct p50): ${r.rounds.map((x) => x.ratioP50.toFixed(2)).join(', ')}`,
    `portal-query: ratio ${fmt(r.ratio.p50)} (product p50 ${fmt(r.server.p50)} ms vs pg replay p50 ${fmt(r.direct.p50)} ms; rounds ${fmt(Math.min(...r.rounds.map((x) => x.ratioP50)))}–${fmt(Math.max(...r.rounds.map((x) => x.ratioP50)))}; ${r.statementsPerRequest} statements incl. ${r.tokenLookupStatements} token lookup)`,
  ].join('\n');
}

const pad = (i) => String(i).padStart(3, '0');
