import type { DataSource } from 'typeorm';
import type { EventLog } from '../events/event-log.js';
import type { SecretBox } from '../secrets.js';
import { AssetService } from './assets.js';
import { AuthService } from './auth.js';
import { UserService } from './users.js';

/** The application's use cases, built once per process and shared by every request. */
export interface Services {
  db: DataSource;
  events: EventLog;
  secrets: SecretBox;
  auth: AuthService;
  users: UserService;
  assets: AssetService;
}

export function createServices(db: DataSource, events: EventLog, secrets: SecretBox): Services {
  return { db, events, secrets, auth: new AuthService(db), users: new UserService(db), assets: new AssetService(db, secrets) };
}
