import { Foundation1763800000000 } from './1763800000000-foundation.js';

/** Every migration, in order. Listed explicitly so the same code runs from src and from dist. */
export const migrations = [Foundation1763800000000];
