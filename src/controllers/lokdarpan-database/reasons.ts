// Condition types and reasons of a LokdarpanDatabase. docs/conditions.md explains each reason; a test
// checks that every reason here is documented there.
export const DatabaseConditions = {
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
  SchemaReady: 'SchemaReady',
  ExtensionsReady: 'ExtensionsReady',
  ViewsFresh: 'ViewsFresh',
  PerformanceHealthy: 'PerformanceHealthy',
} as const;

export const DatabaseReasons = {
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Suspended: 'Suspended',
  InvalidSpec: 'InvalidSpec',
  SchemaUpToDate: 'SchemaUpToDate',
  MigrationsPending: 'MigrationsPending',
  AwaitingApproval: 'AwaitingApproval',
  ExtensionsAvailable: 'ExtensionsAvailable',
  ViewsRefreshed: 'ViewsRefreshed',
  ViewsNotRefreshedYet: 'ViewsNotRefreshedYet',
  ViewsStale: 'ViewsStale',
  ThresholdsMet: 'ThresholdsMet',
  ThresholdsMissed: 'ThresholdsMissed',
  NotValidatedYet: 'NotValidatedYet',
} as const;
