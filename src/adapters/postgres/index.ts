// The PostgreSQL adapter: connections from a URL or PG* settings, and scoped session/transaction helpers.
export * from './connection.ts';
export * from './session.ts';
