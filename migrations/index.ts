import { Foundation1763800000000 } from './1763800000000-foundation.js';
import { Catalog1763900000000 } from './1763900000000-catalog.js';
import { Archives1764000000000 } from './1764000000000-archives.js';
import { Promotions1764100000000 } from './1764100000000-promotions.js';
import { Rollbacks1764200000000 } from './1764200000000-rollbacks.js';
import { Gateways1764300000000 } from './1764300000000-gateways.js';
import { LoginAttempts1764400000000 } from './1764400000000-login-attempts.js';
import { JobLeaseToken1764410000000 } from './1764410000000-job-lease-token.js';
import { GatewaySyncAndTokens1764460000000 } from './1764460000000-gateway-sync-and-tokens.js';
import { StageTls1764650000000 } from './1764650000000-stage-tls.js';
import { GatewayTokenTombstones1764700000000 } from './1764700000000-gateway-token-tombstones.js';
import { ListingOrders1764750000000 } from './1764750000000-listing-orders.js';
import { AccessProfiles1764800000000 } from './1764800000000-access-profiles.js';
import { NameSlugs1764810000000 } from './1764810000000-name-slugs.js';
import { ImportBackups1764820000000 } from './1764820000000-import-backups.js';

/** Every migration, in order. Listed explicitly so the same code runs from src and from dist. */
export const migrations = [
  Foundation1763800000000,
  Catalog1763900000000,
  Archives1764000000000,
  Promotions1764100000000,
  Rollbacks1764200000000,
  Gateways1764300000000,
  LoginAttempts1764400000000,
  JobLeaseToken1764410000000,
  GatewaySyncAndTokens1764460000000,
  StageTls1764650000000,
  GatewayTokenTombstones1764700000000,
  ListingOrders1764750000000,
  AccessProfiles1764800000000,
  NameSlugs1764810000000,
  ImportBackups1764820000000,
];
