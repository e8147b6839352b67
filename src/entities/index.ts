import { AccessProfileEntity, UserGroupEntity, UserGroupMemberEntity, UserGroupProfileEntity } from './access-profile.js';
import { AccessTokenEntity } from './access-token.js';
import { AssetReferenceEntity } from './asset-reference.js';
import { AssetEntity } from './asset.js';
import { EventEntity } from './event.js';
import { GatewayGroupEntity, GatewayInstanceEntity, GatewayTokenEntity, GatewayTokenTombstoneEntity, GroupServiceEntity, ServiceRegistryEntity, ServiceVersionEntity } from './gateway.js';
import { ImportBackupEntity } from './import-backup.js';
import { ImportReportEntity } from './import-report.js';
import { JobEntity } from './job.js';
import { LoginAttemptEntity } from './login-attempt.js';
import { PromotionEntity, PromotionStageEntity } from './promotion.js';
import { RollbackEntity } from './rollback.js';
import { StageEntity } from './stage.js';
import { UserEntity } from './user.js';

export { AccessProfileEntity, AccessTokenEntity, ImportBackupEntity, UserGroupEntity, UserGroupMemberEntity, UserGroupProfileEntity, AssetEntity, AssetReferenceEntity, EventEntity, ImportReportEntity, JobEntity, LoginAttemptEntity, PromotionEntity, PromotionStageEntity, RollbackEntity, StageEntity, UserEntity };

/** Every entity, for the data source and the schema drift check. */
export const entities = [UserEntity, AccessTokenEntity, EventEntity, AssetEntity, AssetReferenceEntity, ImportReportEntity, StageEntity, PromotionEntity, PromotionStageEntity, JobEntity, RollbackEntity, GatewayGroupEntity, GatewayTokenEntity, GatewayTokenTombstoneEntity, GatewayInstanceEntity, ServiceVersionEntity, GroupServiceEntity, ServiceRegistryEntity, LoginAttemptEntity, AccessProfileEntity, UserGroupEntity, UserGroupMemberEntity, UserGroupProfileEntity, ImportBackupEntity];
