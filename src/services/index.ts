import type { DataSource } from 'typeorm';
import { defaultLimits, type Limits } from '../config.js';
import type { EventLog } from '../events/event-log.js';
import type { SecretBox } from '../secrets.js';
import type { Logger } from '../logger.js';
import { assetTypes } from '../domain/asset-types.js';
import { ArchiveExporter } from './archive/export.js';
import { ArchiveImporter } from './archive/import.js';
import { ImportReports } from './archive/reports.js';
import { AssetService } from './assets.js';
import { AuthService } from './auth.js';
import { PromotionService } from './promotions.js';
import { DriftService } from './drift.js';
import { GatewayService } from './gateways.js';
import { RollbackService } from './rollbacks.js';
import { StageService } from './stages.js';
import { UserService } from './users.js';

/** The application's use cases, built once per process and shared by every request. */
export interface Services {
  db: DataSource;
  events: EventLog;
  secrets: SecretBox;
  auth: AuthService;
  users: UserService;
  assets: AssetService;
  exporter: ArchiveExporter;
  importer: ArchiveImporter;
  importReports: ImportReports;
  stages: StageService;
  promotions: PromotionService;
  rollbacks: RollbackService;
  drift: DriftService;
  gateways: GatewayService;
  /** The name of the stage this instance is. */
  stage: string;
}

export function createServices(db: DataSource, events: EventLog, secrets: SecretBox, stage: string, log: Logger, limits: Limits = defaultLimits): Services {
  const assets = new AssetService(db, secrets, { maxChars: limits.maxKeywordChars, maxAlternatives: limits.maxKeywordAlternatives, maxWildcards: limits.maxKeywordWildcards });
  const exporter = new ArchiveExporter(db, assets, secrets, stage);
  const stages = new StageService(db, secrets);
  return {
    db,
    events,
    secrets,
    stage,
    auth: new AuthService(db),
    users: new UserService(db),
    assets,
    exporter,
    stages,
    promotions: new PromotionService(db, stages, exporter, events, log, assetTypes),
    rollbacks: new RollbackService(db, events),
    drift: new DriftService(db, assets, stages, stage),
    gateways: new GatewayService(db, events, secrets, log),
    importer: new ArchiveImporter(db, assets),
    importReports: new ImportReports(db),
  };
}
