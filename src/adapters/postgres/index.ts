// The PostgreSQL adapter: connections from a URL or PG* settings, pooled sessions per target, and scoped session/transaction helpers.
export * from './connection.ts';
export * from './session.ts';
export * from './pool.ts';
