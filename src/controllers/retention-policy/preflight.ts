// The preflight step of a RetentionPolicy: without running, check its database (reachable, schema
// ready), every effective rule against the catalog (the table exists, columns and key fit) and the
// role's privileges on the rules' tables, and its archive destination with a probe object. A rule on a
// table that does not exist is then Ready=False the moment the policy is applied, not at its first run.
import { parseDuration } from '../../api/duration.ts';
import type { RetentionPolicySpec } from '../../api/retention-policy.ts';
import { checkRulePrivileges } from '../../engines/preflight/database.ts';
import { PreflightReasons } from '../../engines/preflight/reasons.ts';
import { DEFAULT_PROTECTED_TABLES, resolveRules, type RetentionRule } from '../../engines/retention/index.ts';
import type { Condition } from '../../runtime/conditions.ts';
import { resolveDatabaseRef, type DatabaseReader } from '../shared/database-ref.ts';
import { probeKey } from '../shared/probe-cache.ts';
import { checkDestinations, failed, type CheckContext, type CheckResult, type Preflight, type PreflightOutcome } from '../shared/preflight.ts';

export function retentionPolicyOwner(namespace: string, name: string): string {
  return `retentionpolicy:${namespace}/${name}`;
}

export async function preflightRetentionPolicy(
  policy: { namespace: string; name: string; generation: number | undefined; conditions: readonly Condition[] | undefined; nextRunTime: string | undefined },
  spec: RetentionPolicySpec,
  rules: readonly RetentionRule[],
  now: Date,
  deps: { preflight: Preflight; databases: DatabaseReader },
): Promise<PreflightOutcome> {
  return deps.preflight.run(
    retentionPolicyOwner(policy.namespace, policy.name),
    { namespace: policy.namespace, generation: policy.generation, intervalMs: parseDuration(spec.checkInterval), nextRunTime: policy.nextRunTime, now, previous: policy.conditions },
    (context) => Promise.all([checkArchive(context), checkDatabase(context)]),
  );

  async function checkArchive(context: CheckContext): Promise<CheckResult> {
    if (!spec.archive) return { type: 'DestinationsReady', ok: true, reason: PreflightReasons.NoArchiveDestination, message: 'no archive destination configured' };
    return checkDestinations(context, [spec.archive.destination]);
  }

  async function checkDatabase(context: CheckContext): Promise<CheckResult> {
    try {
      const { settings } = await resolveDatabaseRef(deps.databases, context.secrets, context.namespace, spec.databaseRef.name, { requireSchema: true });
      await context.cache.get(
        probeKey('pg-retention-rules', { settings, rules }),
        () =>
          context.probes.withDatabase(settings, async (db) => {
            await resolveRules(db, rules, { protectedTables: DEFAULT_PROTECTED_TABLES });
            await checkRulePrivileges(db, rules);
          }),
        { maxAgeMs: context.maxAgeMs },
      );
      return {
        type: 'DatabaseReady',
        ok: true,
        reason: PreflightReasons.DatabaseVerified,
        message: `${rules.length} rule(s) match the database catalog and the role may change their tables`,
      };
    } catch (error) {
      return failed('DatabaseReady', error);
    }
  }
}
