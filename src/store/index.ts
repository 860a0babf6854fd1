/** The persistence layer: hosts and guests with versions and history, on SQLite or PostgreSQL. */
export * from './chunks.js';
export * from './errors.js';
export * from './guests.js';
export * from './hosts.js';
export * from './kysely-store.js';
export * from './migrations.js';
export * from './open-store.js';
export * from './postgres.js';
export * from './put-guests.js';
export * from './sqlite.js';
export * from './store.js';
export * from './tables.js';
export * from './versioned.js';
