import type { DataSource } from 'typeorm';
import { defaultLimits, type Limits } from '../config.js';
import type { EventLog } from '../events/event-log.js';
import type { SecretBox } from '../secrets.js';
import type { Logger } from '../logger.js';
import { defaultAuthLimits, type AuthLimits } from '../config.js';
import { assetTypes } from '../domain/asset-types.js';
import { ArchiveExporter } from './archive/export.js';
import { ArchiveImporter } from './archive/import.js';
import { ImportReports } from './archive/reports.js';
import { ImportBackups } from './import-backups.js';
import { AccessService } from './access.js';
import { AssetService } from './assets.js';
import { AuthService } from './auth.js';
import { LoginThrottle } from './login-throttle.js';
import { PasswordHasher } from './password-hasher.js';
import { PromotionService } from './promotions.js';
import { DriftService } from './drift.js';
import { GatewayService } from './gateways.js';
import { OutboundPolicy } from './outbound.js';
import { RollbackService } from './rollbacks.js';
import { StageService } from './stages.js';
import { StageStatusMonitor } from './stage-status.js';
import { UserService } from './users.js';

/** Switches from the configuration (webMethods' extended settings of the same names). */
export interface Features {
  /** enableImportBackup: imports keep the APIs they overwrite. */
  importBackup: boolean;
  /** enableTeamWork: a team's TEAM asset travels as an optional dependency of its assets. */
  teamWork: boolean;
}

/** The application's use cases, built once per process and shared by every request. */
export interface Services {
  db: DataSource;
  events: EventLog;
  secrets: SecretBox;
  auth: AuthService;
  users: UserService;
  /** Access profiles and user groups. */
  access: AccessService;
  assets: AssetService;
  exporter: ArchiveExporter;
  importer: ArchiveImporter;
  importReports: ImportReports;
  /** enableImportBackup: replaced APIs kept by imports. */
  importBackups: ImportBackups;
  stages: StageService;
  promotions: PromotionService;
  rollbacks: RollbackService;
  drift: DriftService;
  gateways: GatewayService;
  /** Where outbound calls may go (stages, registries, upstreams): the operator's allow-list and this server's own address. */
  outbound: OutboundPolicy;
  /** The name of the stage this instance is. */
  stage: string;
  /** Reachability of the registered stages, checked in the background (started by the app). */
  stageStatus: StageStatusMonitor;
}

export function createServices(
  db: DataSource,
  events: EventLog,
  secrets: SecretBox,
  stage: string,
  log: Logger,
  options: { authLimits?: AuthLimits; limits?: Limits; outbound?: OutboundPolicy; features?: Partial<Features> } = {},
): Services {
  const authLimits = options.authLimits ?? defaultAuthLimits;
  const outbound = options.outbound ?? new OutboundPolicy();
  const hasher = new PasswordHasher({ concurrency: authLimits.passwordHashConcurrency, queue: authLimits.passwordHashQueue });
  const auth = new AuthService(db, hasher, new LoginThrottle(db, authLimits), authLimits.sessionTtlMs);
  const limits = options.limits ?? defaultLimits;
  const assets = new AssetService(db, secrets, { maxChars: limits.maxKeywordChars, maxAlternatives: limits.maxKeywordAlternatives, maxWildcards: limits.maxKeywordWildcards }, options.features?.teamWork ?? false);
  const exporter = new ArchiveExporter(db, assets, secrets, stage);
  const importBackups = new ImportBackups(db, options.features?.importBackup ?? false);
  const stages = new StageService(db, secrets, outbound);
  return {
    db,
    events,
    secrets,
    stage,
    outbound,
    auth,
    users: new UserService(db, hasher, auth),
    access: new AccessService(db),
    assets,
    exporter,
    stages,
    stageStatus: new StageStatusMonitor(stages, log),
    promotions: new PromotionService(db, stages, exporter, assets, events, log, assetTypes),
    rollbacks: new RollbackService(db, events),
    drift: new DriftService(db, assets, stages, stage),
    gateways: new GatewayService(db, events, secrets, log, outbound, { instancesPerToken: limits.instancesPerGatewayToken }),
    importer: new ArchiveImporter(db, assets, importBackups),
    importBackups,
    importReports: new ImportReports(db),
  };
}
