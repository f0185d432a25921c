// Public surface of the migration engine.
export { createMigrationEngine, cliInstance, ENGINE_DEFAULTS } from './engine.ts';
export type { MigrationEngine, MigrationEngineOptions, InspectOptions, UpOptions, DownOptions, RepairOptions } from './engine.ts';
export type { Adopter } from './adoption.ts';
export { lokdarpanFlaskAdopter, FLASK_BASE_TABLES } from './adopters/lokdarpan-flask.ts';
export { lokdarpanAdopters } from './adopters/index.ts';
export type { FlaskAdopterOptions } from './adopters/lokdarpan-flask.ts';
export { MigrationReasons, TERMINAL_MIGRATION_REASONS } from './reasons.ts';
export type { MigrationReason } from './reasons.ts';
export { LOKDARPAN_REQUIREMENTS } from './preflight.ts';
export type { PreflightReport, PreflightRequirements, ExtensionRequirement, ExtensionCheck } from './preflight.ts';
export { DEFAULT_HISTORY_TABLE } from './history.ts';
export { applySchemaDatabaseSettings, schemaDatabaseSettings, HNSW_EF_SEARCH_SETTING } from './database-settings.ts';
export type { AppliedDatabaseSettings, SchemaDatabaseSetting } from './database-settings.ts';
export type { HistoryTable } from './history.ts';
export { cachedMigrations, loadMigrations } from './source.ts';
export type * from './types.ts';
