// The ClusterRole in manifests/base/rbac.yaml is what the operator runs under (RBAC on in the test API
// server, the operator a child process with the ServiceAccount's token): it grants what the operator
// needs and not much more, and taking one verb away breaks it in a way the condition or the log names
// (forbidden), then putting the verb back heals it without a restart.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { repoRoot } from '../env/index.ts';
import { OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT, condition, eventually, operatorFixture } from './operator-harness.ts';
import { GENEROUS_WAIT_MS, SUITE_TIMEOUT_MS } from '../wait.ts';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
interface ClusterRole {
  kind: string;
  metadata: { name: string };
  rules: Rule[];
}

const RBAC_FILE = join(repoRoot, 'manifests/base/rbac.yaml');
const SA = `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_SERVICE_ACCOUNT}`;

function clusterRole(): ClusterRole {
  const docs = parseAllDocuments(readFileSync(RBAC_FILE, 'utf8')).map((d) => d.toJS() as ClusterRole);
  const role = docs.find((d) => d.kind === 'ClusterRole');
  assert.ok(role, 'rbac.yaml has a ClusterRole');
  return role;
}

/** The ClusterRole with `verb` taken off every rule that names `resource`. */
function without(resource: string, verb: string): ClusterRole {
  const role = clusterRole();
  let removed = false;
  role.rules = role.rules
    .map((r) => {
      if (!r.resources.includes(resource) || !r.verbs.includes(verb)) return r;
      removed = true;
      return { ...r, verbs: r.verbs.filter((v) => v !== verb) };
    })
    .filter((r) => r.verbs.length > 0);
  assert.ok(removed, `the ClusterRole grants ${verb} on ${resource}`);
  return role;
}

describe('LokdarpanDatabase operator: RBAC from manifests/base/rbac.yaml', { timeout: SUITE_TIMEOUT_MS }, () => {
  const fx = operatorFixture();

  const applyRole = async (role: ClusterRole): Promise<void> => {
    await fx.h.kubectlOk(['apply', '-f', '-'], { input: stringify(role) });
  };
  const restoreRole = (): Promise<void> => applyRole(clusterRole());
  const canI = async (args: string[]): Promise<boolean> => {
    const result = await fx.h.kubectl(['auth', 'can-i', ...args, `--as=${SA}`]);
    return result.stdout.trim() === 'yes';
  };

  it('the ServiceAccount may do what the operator needs and not more', async () => {
    const ns = fx.h.namespace;
    for (const args of [
      ['get', 'secrets', '-n', ns],
      ['watch', 'lokdarpandatabases.lokdarpan.io', '-A'],
      ['patch', 'lokdarpandatabases.lokdarpan.io', '--subresource=status', '-n', ns],
      ['create', 'events.events.k8s.io', '-n', ns],
      ['update', 'leases.coordination.k8s.io', '-n', OPERATOR_NAMESPACE],
    ]) {
      assert.ok(await canI(args), `may ${args.join(' ')}`);
    }
    for (const args of [
      ['list', 'secrets', '-n', ns],
      ['create', 'secrets', '-n', ns],
      // Statuses are written as merge patches only.
      ['update', 'lokdarpandatabases.lokdarpan.io', '--subresource=status', '-n', ns],
      ['delete', 'lokdarpandatabases.lokdarpan.io', '-n', ns],
      ['update', 'leases.coordination.k8s.io', '-n', ns],
      ['create', 'pods', '-n', ns],
    ]) {
      assert.ok(!(await canI(args)), `may not ${args.join(' ')}`);
    }
  });

  it('without `get` on secrets a database never becomes Ready (the condition says forbidden); restoring the verb heals it', async () => {
    await applyRole(without('secrets', 'get'));
    await eventually('RBAC to take the verb away', async () => !(await canI(['get', 'secrets', '-n', fx.h.namespace])), GENEROUS_WAIT_MS);
    const { name, namespace } = await fx.h.applyDatabase({ name: 'no-secret-access' });
    const denied = await fx.h.waitForCondition(namespace, name, 'Ready', 'False', { reason: 'SecretAccessDenied' });
    assert.match(
      condition(denied, 'Ready')?.message ?? '',
      new RegExp(`^reading Secret ${namespace}/${name}-db failed: secrets "${name}-db" is forbidden: User "${SA}" cannot get resource "secrets" in API group "" in the namespace "${namespace}"$`),
    );
    const event = (await fx.h.events(namespace, name)).find((e) => e.reason === 'SecretAccessDenied');
    assert.ok(event, 'a SecretAccessDenied event');
    assert.equal(denied.status?.schemaVersion, undefined, 'nothing was migrated');
    assert.match(fx.operator.log(), /cannot get resource \\"secrets\\"/);

    await restoreRole();
    const ready = await fx.h.waitForCondition(namespace, name, 'Ready', 'True');
    assert.equal(ready.status?.schemaVersion, '009_hnsw_dense_graph');
  });

  it('without `patch` on lokdarpandatabases/status no status is written (the log says forbidden); restoring the verb heals it', async () => {
    await applyRole(without('lokdarpandatabases/status', 'patch'));
    await eventually('RBAC to take the verb away', async () => !(await canI(['patch', 'lokdarpandatabases.lokdarpan.io', '--subresource=status', '-n', fx.h.namespace])), GENEROUS_WAIT_MS);
    const fromLine = fx.operator.log().split('\n').length;
    const { name, namespace, db } = await fx.h.applyDatabase({ name: 'no-status-access' });
    await fx.operator.waitForLog(/"key":"lokdarpan\/no-status-access".* is forbidden: .*cannot patch resource .*lokdarpandatabases\/status/, GENEROUS_WAIT_MS, fromLine);
    const blind = await fx.h.get(namespace, name);
    assert.equal(blind.status, undefined, 'no status could be written');
    // The work itself happened; only reporting it is forbidden, so the resource cannot show Ready.
    const tables = await fx.h.adminQuery(db, `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`);
    assert.ok((tables.rows[0]?.n ?? 0) > 0);

    await restoreRole();
    await fx.h.waitForCondition(namespace, name, 'Ready', 'True');
  });

  it('never writes a password or connection URI into its logs, events or statuses', async () => {
    await fx.h.assertNoSecretsLeaked();
  });
});
