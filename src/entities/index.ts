import { AccessTokenEntity } from './access-token.js';
import { AssetReferenceEntity } from './asset-reference.js';
import { AssetEntity } from './asset.js';
import { EventEntity } from './event.js';
import { ImportReportEntity } from './import-report.js';
import { UserEntity } from './user.js';

export { AccessTokenEntity, AssetEntity, AssetReferenceEntity, EventEntity, ImportReportEntity, UserEntity };

/** Every entity, for the data source and the schema drift check. */
export const entities = [UserEntity, AccessTokenEntity, EventEntity, AssetEntity, AssetReferenceEntity, ImportReportEntity];
