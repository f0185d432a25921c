// The kubectl plugin commands (status, backup, restore, refresh, validate, retention-run): see ./plugin/index.ts.
export * from './plugin/index.ts';
