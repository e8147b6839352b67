import { AccessTokenEntity } from './access-token.js';
import { EventEntity } from './event.js';
import { UserEntity } from './user.js';

export { AccessTokenEntity, EventEntity, UserEntity };

/** Every entity, for the data source and the schema drift check. */
export const entities = [UserEntity, AccessTokenEntity, EventEntity];
