// Smoke test of the Kubernetes part of the test environment: proves the control plane from test/env/kube.ts is a
// real one (CRD schema + CEL validation, status subresource, printer columns, watches, authentication, RBAC,
// TokenRequest, garbage collection, namespace deletion, leases, apiserver restart) through client-node and kubectl.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { createCrd, startKube, type KubeEnv } from '../env/kube.ts';
import { eventually, GENEROUS_WAIT_MS, SUITE_TIMEOUT_MS } from '../wait.ts';

const GROUP = 'smoke.lokdarpan.io';

function widgetLikeCrd(plural: string, kind: string): k8s.V1CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List` },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  required: ['replicas'],
                  properties: { replicas: { type: 'integer', minimum: 0 } },
                  x_kubernetes_validations: [{ rule: 'self.replicas <= 5', message: 'replicas must be at most 5' }],
                },
                status: { type: 'object', properties: { phase: { type: 'string' } } },
              },
            },
          },
        },
      ],
    },
  };
}

/** The server's Status message inside a client-node ApiException (body is the JSON text or an object). */
function apiError(err: unknown): { code: number; message: string } {
  assert.ok(err instanceof k8s.ApiException, `expected an ApiException, got ${String(err)}`);
  const body: unknown = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
  const message = body && typeof body === 'object' && 'message' in body ? String(body.message) : String(err.message);
  return { code: err.code, message };
}

async function isGone(read: () => Promise<unknown>): Promise<true | undefined> {
  try {
    await read();
    return undefined;
  } catch (err) {
    if (err instanceof k8s.ApiException && err.code === 404) return true;
    throw err;
  }
}

describe('test environment: Kubernetes control plane', { timeout: SUITE_TIMEOUT_MS }, () => {
  let kube: KubeEnv;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let custom: k8s.CustomObjectsApi;
  const ns = 'smoke';

  before(async () => {
    const t0 = Date.now();
    // The widgets CRD goes in before kube-controller-manager starts, so its garbage collector knows it at once.
    kube = await startKube({ crds: [widgetLikeCrd('widgets', 'Widget')] });
    const t = kube.timings;
    console.log(
      `# control plane up in ${Date.now() - t0} ms (etcd ${t.etcdReadyMs} ms, kube-apiserver ${t.apiserverReadyMs} ms, ` +
        `kube-controller-manager ${t.kcmReadyMs} ms)`,
    );
    kc = kube.kubeConfig();
    core = kc.makeApiClient(k8s.CoreV1Api);
    custom = kc.makeApiClient(k8s.CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: ns } } });
  });

  after(async () => {
    const t0 = Date.now();
    await kube?.stop();
    console.log(`# control plane stopped in ${Date.now() - t0} ms`);
  });

  it('serves the stamped Kubernetes version and verifies TLS with the written CA', async () => {
    const res = await kube.request('/version');
    assert.equal(res.status, 200);
    const version = JSON.parse(res.body) as { gitVersion: string };
    assert.match(version.gitVersion, /^v1\.\d+\.\d+/);
    const kubectl = await kube.kubectl(['get', '--raw', '/readyz']);
    assert.equal(kubectl.code, 0, kubectl.stderr);
    assert.equal(kubectl.stdout.trim(), 'ok');
  });

  it('refuses a request without credentials, or with a wrong token (401)', async () => {
    assert.equal((await kube.request('/api/v1/namespaces', { token: null })).status, 401);
    assert.equal((await kube.request('/api/v1/namespaces', { token: 'not-a-token' })).status, 401);
    assert.equal((await kube.request('/api/v1/namespaces')).status, 200);
  });

  it('creates a custom resource, sees it in a watch, and serves its status subresource and printer columns', async () => {
    const seen: string[] = [];
    let added!: () => void;
    const arrived = new Promise<void>((resolve) => (added = resolve));
    const watch = new k8s.Watch(kc);
    const controller = await watch.watch(
      `/apis/${GROUP}/v1/namespaces/${ns}/widgets`,
      {},
      (phase, obj: k8s.KubernetesObject) => {
        seen.push(`${phase} ${obj.metadata?.name}`);
        if (phase === 'ADDED' && obj.metadata?.name === 'first') added();
      },
      () => {},
    );
    try {
      const body = { apiVersion: `${GROUP}/v1`, kind: 'Widget', metadata: { name: 'first' }, spec: { replicas: 3 } };
      await custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: ns, plural: 'widgets', body });
      await Promise.race([
        arrived,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`no ADDED event; saw ${seen.join(', ')}`)), GENEROUS_WAIT_MS).unref()),
      ]);
    } finally {
      controller.abort();
    }

    // Status goes through its own subresource and does not bump the generation.
    const patched = (await custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: 'v1', namespace: ns, plural: 'widgets', name: 'first', body: { status: { phase: 'Ready' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    )) as { metadata: { generation: number }; status: { phase: string } };
    assert.equal(patched.status.phase, 'Ready');
    assert.equal(patched.metadata.generation, 1);

    const table = await kube.kubectl(['get', `widgets.${GROUP}`, '-n', ns]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^NAME\s+REPLICAS\s+PHASE$/m);
    assert.match(table.stdout, /^first\s+3\s+Ready\s+/m);
  });

  it('rejects an invalid custom resource with the CEL message, through the API and through kubectl', async () => {
    const body = { apiVersion: `${GROUP}/v1`, kind: 'Widget', metadata: { name: 'too-many' }, spec: { replicas: 9 } };
    const err = await custom
      .createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: ns, plural: 'widgets', body })
      .then(
        () => assert.fail('an invalid Widget was accepted'),
        (e: unknown) => apiError(e),
      );
    assert.equal(err.code, 422);
    assert.match(err.message, /replicas must be at most 5/);

    const res = await kube.kubectl(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(body) });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /replicas must be at most 5/);
    // The OpenAPI schema is enforced too.
    const negative = { ...body, metadata: { name: 'negative' }, spec: { replicas: -1 } };
    const res2 = await kube.kubectl(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(negative) });
    assert.notEqual(res2.code, 0);
    assert.match(res2.stderr, /should be greater than or equal to 0/);
  });

  it('forbids a ServiceAccount without a role (403), and kubectl auth can-i agrees, until a Role is bound', async () => {
    const saConfig = await kube.serviceAccountKubeconfig(ns, 'nobody');
    const asSa = new k8s.KubeConfig();
    asSa.loadFromFile(saConfig);
    const saCore = asSa.makeApiClient(k8s.CoreV1Api);

    const who = await kube.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { kubeconfig: saConfig });
    assert.equal(who.code, 0, who.stderr);
    assert.equal(who.stdout, `system:serviceaccount:${ns}:nobody`);

    const denied = await saCore.listNamespacedConfigMap({ namespace: ns }).then(
      () => assert.fail('an unprivileged ServiceAccount listed ConfigMaps'),
      (e: unknown) => apiError(e),
    );
    assert.equal(denied.code, 403);
    assert.match(denied.message, /forbidden/);
    const canI = await kube.kubectl(['auth', 'can-i', 'list', 'configmaps', '-n', ns], { kubeconfig: saConfig });
    assert.equal(canI.stdout.trim(), 'no');
    assert.equal(canI.code, 1);

    const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'configmap-reader' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'nobody-reads-configmaps' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'nobody', namespace: ns }],
      },
    });
    // The RBAC authorizer reads through an informer: allow a moment for the binding to arrive.
    await eventually('the Role binding to take effect', async () =>
      saCore.listNamespacedConfigMap({ namespace: ns }).then(
        () => true as const,
        () => undefined,
      ),
    );
    const canNow = await kube.kubectl(['auth', 'can-i', 'list', 'configmaps', '-n', ns], { kubeconfig: saConfig });
    assert.equal(canNow.stdout.trim(), 'yes');
    const stillNo = await kube.kubectl(['auth', 'can-i', 'delete', 'configmaps', '-n', ns], { kubeconfig: saConfig });
    assert.equal(stillNo.stdout.trim(), 'no');
  });

  it('garbage-collects a ConfigMap after its owner ConfigMap is deleted', async () => {
    const owner = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'owner' } } });
    const uid = owner.metadata?.uid;
    assert.ok(uid);
    const ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid }];
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'dependent', ownerReferences } } });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'bystander' } } });

    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'owner' });
    await eventually('garbage collection of the dependent', () =>
      isGone(() => core.readNamespacedConfigMap({ namespace: ns, name: 'dependent' })),
    );
    await core.readNamespacedConfigMap({ namespace: ns, name: 'bystander' }); // not collected
  });

  it('garbage-collects a custom resource owned by a ConfigMap (CRD given to startKube)', async () => {
    const owner = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'widget-owner' } } });
    const ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'widget-owner', uid: owner.metadata?.uid ?? '' }];
    const body = { apiVersion: `${GROUP}/v1`, kind: 'Widget', metadata: { name: 'owned', ownerReferences }, spec: { replicas: 1 } };
    await custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: ns, plural: 'widgets', body });
    const t0 = Date.now();
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'widget-owner' });
    await eventually('garbage collection of the owned Widget', () =>
      isGone(() => custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: ns, plural: 'widgets', name: 'owned' })),
    );
    console.log(`# owned Widget collected ${Date.now() - t0} ms after its owner was deleted`);
  });

  it('garbage-collects a custom resource of a CRD created later once the controller manager restarts', async () => {
    await createCrd(kc, widgetLikeCrd('gadgets', 'Gadget'));
    const t0 = Date.now();
    await kube.restartControllerManager();
    console.log(`# kube-controller-manager restarted in ${Date.now() - t0} ms`);
    const owner = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'gadget-owner' } } });
    const ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'gadget-owner', uid: owner.metadata?.uid ?? '' }];
    const body = { apiVersion: `${GROUP}/v1`, kind: 'Gadget', metadata: { name: 'owned', ownerReferences }, spec: { replicas: 1 } };
    await custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: ns, plural: 'gadgets', body });
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'gadget-owner' });
    await eventually('garbage collection of the owned Gadget', () =>
      isGone(() => custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: ns, plural: 'gadgets', name: 'owned' })),
    );
  });

  it('creates and renews a Lease with microsecond times', async () => {
    const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
    const now = new k8s.V1MicroTime();
    const lease = await coordination.createNamespacedLease({
      namespace: ns,
      body: {
        metadata: { name: 'smoke-leader' },
        spec: { holderIdentity: 'pod-a', leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 0 },
      },
    });
    assert.equal(lease.spec?.holderIdentity, 'pod-a');
    // client-node 2.0.1 declares V1MicroTime but hands back the server's string (6 fractional digits).
    assert.match(String(lease.spec?.renewTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    // Renew with optimistic concurrency: replace with the resourceVersion just read.
    const renewed = await coordination.replaceNamespacedLease({
      namespace: ns,
      name: 'smoke-leader',
      body: { ...lease, spec: { ...lease.spec, renewTime: new k8s.V1MicroTime(Date.now() + 1) } },
    });
    assert.notEqual(renewed.metadata?.resourceVersion, lease.metadata?.resourceVersion);
    // A stale resourceVersion conflicts (409): the base of leader election.
    const stale = await coordination.replaceNamespacedLease({ namespace: ns, name: 'smoke-leader', body: lease }).then(
      () => assert.fail('a stale Lease update was accepted'),
      (e: unknown) => apiError(e),
    );
    assert.equal(stale.code, 409);
  });

  it('deletes a namespace with everything in it (namespace controller)', async () => {
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'x' } } });
    await core.deleteNamespace({ name: 'doomed' });
    await eventually('deletion of the namespace', () => isGone(() => core.readNamespace({ name: 'doomed' })));
  });

  it('restarts kube-apiserver on the same port, keeping data and credentials', async () => {
    const t0 = Date.now();
    await kube.restartApiServer();
    console.log(`# kube-apiserver restarted in ${Date.now() - t0} ms`);
    const again = kube.kubeConfig().makeApiClient(k8s.CustomObjectsApi);
    const widget = (await again.getNamespacedCustomObject({
      group: GROUP,
      version: 'v1',
      namespace: ns,
      plural: 'widgets',
      name: 'first',
    })) as { status: { phase: string } };
    assert.equal(widget.status.phase, 'Ready');
    // The client made before the restart works again too.
    await core.readNamespace({ name: ns });
  });
});
