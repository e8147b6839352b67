/**
 * Archive endpoints: `POST /archive/export` (JSON selection → application/zip, streamed),
 * `POST /archive/import` (application/zip → JSON report) and the stored reports as JSON or CSV.
 * Same bearer tokens and error codes as GraphQL. Export needs EXPORT_ASSETS; import and the
 * reports need IMPORT_ASSETS, except that a promotion's import (X-Stagecraft-Promotion) is also
 * taken from the stage user holding MANAGE_PROMOTIONS or MANAGE_ASSETS, as the seed says.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { isIdValue, localKey } from '../graphql/node-id.js';
import { parseId } from '../db/ids.js';
import { assetTypes, isAssetType, type AssetType } from '../domain/asset-types.js';
import type { Privilege } from '../domain/privileges.js';
import { attributePromotion, PROMOTION_PRIVILEGES } from '../domain/promotion-claim.js';
import { AppError, badInput } from '../errors.js';
import { assertPrivileges } from '../graphql/guard.js';
import type { Logger } from '../logger.js';
import { reportCsv, reportJson } from '../services/archive/reports.js';
import type { OverwriteMode } from '../services/archive/import.js';
import type { AuthUser } from '../services/auth.js';
import type { Services } from '../services/index.js';
import { defaultLimits, type Limits } from '../config.js';
import { defaultZipLimits, type ZipLimits } from '../services/archive/zip-reader.js';
import { bearerToken } from './auth-context.js';
import { noteRequestUser } from '../observability/request-context.js';
import { currentObserver } from '../observability/observer.js';
import { inSpan, SpanKind } from '../observability/tracing.js';
import { receiveUpload, type ReceivedUpload } from './upload.js';

type Handler = (req: Request, res: Response, user: AuthUser) => Promise<void>;

/**
 * Authenticates the bearer token and checks the privilege, before any body is read. `alternatives`
 * (for this request) are privileges any one of which also admits the caller.
 */
function requires(services: Services, privilege: Privilege, alternatives: (req: Request) => readonly Privilege[] = () => []) {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const token = bearerToken(req.headers.authorization);
      const user = token ? await services.auth.authenticate(token) : null;
      noteRequestUser(req, user?.username);
      const alternative = alternatives(req).find((p) => user?.privileges.includes(p));
      assertPrivileges(user, [alternative ?? privilege]);
      res.locals.user = user;
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** Runs a handler with the authenticated user; AppErrors go to the JSON error handler. */
function handle(handler: Handler) {
  return (req: Request, res: Response, next: NextFunction) => {
    handler(req, res, res.locals.user as AuthUser).catch(next);
  };
}

/** An asset id: the UUID, or a global id of this stage (turned into the UUID in the handler). */
const uuid = z.string().refine(isIdValue, 'must be a UUID or a global id of this stage');
const exportBody = z.strictObject({
  assetIds: z.array(uuid).optional(),
  filter: z
    .strictObject({
      keyword: z.string().nullish(),
      types: z.array(z.enum(assetTypes)).nullish(),
      teams: z.array(z.string()).nullish(),
    })
    .nullish(),
  optional: z.enum(['ALL', 'NONE', 'SELECTED']).default('NONE'),
  optionalIds: z.array(uuid).default([]),
  passphrase: z.string().nullish(),
});

const IMPORT_PARAMETERS = new Set(['overwrite', 'types', 'fixMissingVersions', 'dryRun']);

function parseImportOptions(req: Request) {
  // A misspelt parameter (dryrun, overwite) would silently do what the caller did not ask.
  const stray = Object.keys(req.query).find((name) => !IMPORT_PARAMETERS.has(name));
  if (stray !== undefined) throw badInput(`unknown parameter ${stray.slice(0, 40)}; the import takes ${[...IMPORT_PARAMETERS].join(', ')}`, { field: 'query' });
  const one = (name: string) => {
    const v = req.query[name];
    if (Array.isArray(v)) throw badInput(`${name} given more than once`, { field: name });
    return typeof v === 'string' ? v : undefined;
  };
  const overwrite = (one('overwrite') ?? 'none').toUpperCase();
  if (!['NONE', 'ALL', 'CUSTOM'].includes(overwrite)) throw badInput('overwrite must be none, all or custom', { field: 'overwrite' });
  const types = (one('types') ?? '')
    .split(',')
    .map((t) => t.trim().toUpperCase())
    .filter(Boolean);
  const unknown = types.filter((t) => !isAssetType(t));
  if (unknown.length) throw badInput(`unknown asset types: ${unknown.join(', ')}`, { field: 'types' });
  if (overwrite === 'CUSTOM' && types.length === 0) throw badInput('overwrite=custom needs types, e.g. types=API,POLICY', { field: 'types' });
  const fix = (one('fixMissingVersions') ?? 'false').toLowerCase();
  if (!['true', 'false'].includes(fix)) throw badInput('fixMissingVersions must be true or false', { field: 'fixMissingVersions' });
  const dryRun = (one('dryRun') ?? 'false').toLowerCase();
  if (!['true', 'false'].includes(dryRun)) throw badInput('dryRun must be true or false', { field: 'dryRun' });
  const passphrase = req.headers['x-archive-passphrase'];
  return {
    dryRun: dryRun === 'true',
    promotion: promotionHeader(req.headers['x-stagecraft-promotion']),
    overwrite: overwrite as OverwriteMode,
    types: types as AssetType[],
    fixMissingVersions: fix === 'true',
    passphrase: typeof passphrase === 'string' && passphrase ? passphrase : null,
  };
}

const promotionInfo = z.strictObject({ id: uuid, name: z.string().min(1).max(200), description: z.string().max(10_000), promotedBy: z.string().max(64) });

/** A promotion sends who and what it is (base64url JSON), so the import records a rollback. */
function promotionHeader(value: string | string[] | undefined) {
  if (value === undefined) return null;
  try {
    const parsed = promotionInfo.safeParse(JSON.parse(Buffer.from(String(value), 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    /* fall through */
  }
  throw badInput('X-Stagecraft-Promotion is malformed', { field: 'X-Stagecraft-Promotion' });
}

export function archiveRouter(services: Services, log: Logger, limits: Limits = defaultLimits): Router {
  const router = express.Router();
  const zipLimits: ZipLimits = { ...defaultZipLimits, maxEntries: limits.archiveEntries, maxTotalBytes: limits.archiveExpandedBytes };
  // Imports hold their archive's documents in memory: how many run at once bounds the process.
  let importsRunning = 0;

  router.post(
    '/archive/export',
    requires(services, 'EXPORT_ASSETS'),
    express.json({ limit: '1mb' }),
    handle(async (req, res) => {
      const body = exportBody.safeParse(req.body ?? {});
      if (!body.success) {
        const issue = body.error.issues[0]!;
        throw badInput(`${issue.path.join('.') || 'body'}: ${issue.message}`, { field: String(issue.path[0] ?? 'body') });
      }
      const local = (field: string) => (ids: string[] | undefined) => ids?.map((id, i) => localKey(`${field}.${i}`, id, services.stage, 'Asset').toLowerCase());
      const selection = { ...body.data, assetIds: local('assetIds')(body.data.assetIds), optionalIds: local('optionalIds')(body.data.optionalIds)! };
      const { ids, stream } = await services.exporter.export(selection);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      res.status(200).set({
        'Content-Type': 'application/zip',
        'Content-Disposition': `attachment; filename="stagecraft-${services.stage}-${stamp}.zip"`,
        'X-Asset-Count': String(ids.length),
      });
      // Headers are out; a failure now can only cut the stream (the client sees a broken ZIP).
      await pipeline(stream, res).catch((err: unknown) => log.error({ err }, 'archive export stream failed'));
    }),
  );

  router.post(
    '/archive/import',
    requires(services, 'IMPORT_ASSETS', (req) => (req.headers['x-stagecraft-promotion'] === undefined ? [] : PROMOTION_PRIVILEGES)),
    handle(async (req, res, user) => {
      if (!req.is('application/zip') && !req.is('application/octet-stream')) {
        req.resume();
        throw badInput('send the archive as application/zip', { field: 'Content-Type' });
      }
      const options = parseImportOptions(req);
      options.promotion = attributePromotion(options.promotion, user);
      if (importsRunning >= limits.concurrentImports) {
        req.resume();
        res.set('Retry-After', '5');
        throw new AppError('TOO_MANY_REQUESTS', `at most ${limits.concurrentImports} archive imports run at once; try again shortly`, { limit: limits.concurrentImports });
      }
      importsRunning++;
      let upload: ReceivedUpload | undefined;
      try {
        upload = await receiveUpload(req, { maxBytes: limits.archiveBytes, idleMs: limits.uploadIdleMs });
        if (upload.bytes === 0) throw badInput('the request body is empty', { field: 'archive' });
        log.info({ user: user.username, bytes: upload.bytes, overwrite: options.overwrite, dryRun: options.dryRun }, 'archive import: applying');
        // A client gone before its import begins writing (it waited behind another) gets none.
        const gone = new AbortController();
        res.once('close', () => gone.abort());
        const { report, dryRun } = await inSpan(currentObserver()?.tracer ?? null, 'archive import', SpanKind.INTERNAL, { 'stagecraft.archive.bytes': upload.bytes, ...(options.promotion ? { 'stagecraft.promotion.id': options.promotion.id } : {}) }, () =>
          services.importer.import(user, upload!.source, { ...options, signal: gone.signal }, zipLimits),
        );
        log.info({ reportId: report.id, status: report.status, assets: report.assets.length, dryRun }, 'archive import: done');
        res.status(200).json(reportJson(report, dryRun));
      } finally {
        importsRunning--;
        await upload?.remove();
      }
    }),
  );

  router.get(
    '/archive/import-reports/:file',
    requires(services, 'IMPORT_ASSETS'),
    handle(async (req, res) => {
      const match = /^([^.]*)(?:\.(json|csv))?$/.exec(String(req.params.file));
      const report = await services.importReports.get(parseId('import report', match?.[1] ?? ''));
      if (match?.[2] === 'csv') {
        res.type('text/csv').set('Content-Disposition', `attachment; filename="import-report-${report.id}.csv"`).send(reportCsv(report));
      } else {
        res.json(reportJson(report));
      }
    }),
  );
  return router;
}

