/**
 * The demo catalog (`stagecraft seed`, `serve --seed`): the Swagger Petstore API 1.0.0 with its
 * policies, stage-bound and unbound aliases, an application, a package with a plan and a
 * subscription, and the team that owns them. Idempotent: does nothing when the Petstore exists.
 */
import { AssetEntity } from '../entities/asset.js';
import type { AuthUser } from './auth.js';
import type { Services } from './index.js';

const TEAM = 'Pet Platform';

/**
 * The Petstore's sample Dog: the documented answer of `GET /pet/{petId}` for pet 1 in the seeded
 * API (the route's `example`), and what the demo's Petstore upstream serves, byte for byte.
 */
export const PETSTORE_DOG = {
  id: 1,
  category: { id: 1, name: 'Dogs' },
  name: 'Rex',
  photoUrls: ['https://petstore.example/photos/rex.jpg'],
  tags: [{ id: 1, name: 'friendly' }],
  status: 'available',
};

/** Documented sample responses of the seeded Petstore routes. */
const routeExamples: Record<string, unknown> = { 'GET /pet/{petId}': PETSTORE_DOG };

const petstoreRoutes: [string, string, string][] = [
  ['POST', '/pet', 'Add a new pet to the store'],
  ['PUT', '/pet', 'Update an existing pet'],
  ['GET', '/pet/findByStatus', 'Finds pets by status'],
  ['GET', '/pet/findByTags', 'Finds pets by tags'],
  ['GET', '/pet/{petId}', 'Find pet by ID'],
  ['POST', '/pet/{petId}', 'Updates a pet in the store with form data'],
  ['DELETE', '/pet/{petId}', 'Deletes a pet'],
  ['POST', '/pet/{petId}/uploadImage', 'Uploads an image'],
  ['GET', '/store/inventory', 'Returns pet inventories by status'],
  ['POST', '/store/order', 'Place an order for a pet'],
  ['GET', '/store/order/{orderId}', 'Find purchase order by ID'],
  ['DELETE', '/store/order/{orderId}', 'Delete purchase order by ID'],
  ['POST', '/user', 'Create user'],
  ['GET', '/user/login', 'Logs user into the system'],
  ['GET', '/user/logout', 'Logs out current logged in user session'],
  ['GET', '/user/{username}', 'Get user by user name'],
  ['PUT', '/user/{username}', 'Updated user'],
  ['DELETE', '/user/{username}', 'Delete user'],
];

export async function seedDemoCatalog(services: Services, actor: AuthUser): Promise<{ created: number }> {
  const exists = await services.db.getRepository(AssetEntity).existsBy({ type: 'API', name: 'Swagger Petstore', version: '1.0.0' });
  if (exists) return { created: 0 };
  const { assets } = services;
  let created = 0;
  const create = async (input: Parameters<typeof assets.create>[1]) => {
    created++;
    return assets.create(actor, { team: TEAM, ...input });
  };

  const developers = await create({ type: 'GROUP', name: 'pet-developers', description: 'Engineers of the Petstore', spec: { members: ['alice', 'bob'] } });
  await create({ type: 'TEAM', name: TEAM, description: 'Owns the Petstore APIs', spec: { email: 'pets@example.com' }, references: [developers.id] });

  const apiKey = await create({ type: 'POLICY', name: 'Petstore API Key', description: 'Callers present an API key', spec: { kind: 'AUTHENTICATION', config: { header: 'api_key' } } });
  const rateLimit = await create({ type: 'POLICY', name: 'Petstore Rate Limit', description: '100 requests a minute per application', spec: { kind: 'RATE_LIMIT', config: { requests: 100, perSeconds: 60 } } });
  const cors = await create({ type: 'POLICY', name: 'Petstore CORS', spec: { kind: 'CORS', phase: 'RESPONSE', config: { allowOrigins: ['https://shop.example.com'] } } });

  const backend = await create({ type: 'ALIAS', name: 'petstore-backend', description: 'Upstream of the Petstore (unbound default)', spec: { kind: 'ENDPOINT', value: 'http://petstore.internal:8080' } });
  for (const stage of ['dev', 'qa', 'prod']) {
    await create({ type: 'ALIAS', name: 'petstore-backend', description: `Upstream of the Petstore on ${stage}`, spec: { kind: 'ENDPOINT', value: `http://petstore.${stage}.internal:8080`, stage } });
  }
  const dbPassword = await create({ type: 'ALIAS', name: 'petstore-db-password', description: 'Database password (secure)', spec: { value: 'demo-only-secret', secure: true, kind: 'AUTHENTICATION' } });

  const api = await create({
    type: 'API',
    name: 'Swagger Petstore',
    version: '1.0.0',
    description: 'This is a sample server Petstore server.',
    spec: {
      apiType: 'REST',
      basePath: '/',
      routes: petstoreRoutes.map(([method, path, description]) => ({ method, path, description, ...(routeExamples[`${method} ${path}`] ? { example: routeExamples[`${method} ${path}`] } : {}) })),
      tags: ['pet', 'store', 'user'],
    },
    references: [apiKey.id, rateLimit.id, cors.id, backend.id, dbPassword.id],
  });
  const app = await create({ type: 'APPLICATION', name: 'Pet Shop Portal', description: 'The public shop front', spec: { contactEmail: 'shop@example.com', identifiers: ['pet-shop-portal'] }, references: [api.id] });
  await assets.update(actor, api.id, { references: [apiKey.id, rateLimit.id, cors.id, backend.id, dbPassword.id, app.id] });

  const gold = await create({ type: 'PLAN', name: 'Gold', description: '1,000 requests a minute', spec: { rateLimit: { requests: 1000, perSeconds: 60 }, price: 99 }, references: [rateLimit.id] });
  const pkg = await create({ type: 'PACKAGE', name: 'Petstore Package', description: 'The Petstore for partners', references: [api.id, gold.id, apiKey.id] });
  const subscription = await create({ type: 'SUBSCRIPTION', name: 'Pet Shop Gold Subscription', spec: { status: 'ACTIVE' }, references: [pkg.id, gold.id, app.id] });
  await assets.update(actor, pkg.id, { references: [api.id, gold.id, apiKey.id, subscription.id] });
  return { created };
}
