import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import {
  apiErrorMessage,
  apiStatusCode,
  isConflict,
  isGone,
  isNotFound,
  microTime,
  parseKubeTime,
  resourceOfPath,
  resourcePath,
  rfc3339,
} from '../../../src/runtime/kube.ts';

test('resource paths for core, grouped, namespaced and cluster-scoped types', () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
  const db = { apiVersion: 'lokdarpan.io/v1alpha1', kind: 'LokdarpanDatabase', plural: 'lokdarpandatabases', namespaced: true };
  const crd = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', namespaced: false };
  assert.equal(resourcePath(cm), '/api/v1/configmaps');
  assert.equal(resourcePath(cm, 'ns', 'a'), '/api/v1/namespaces/ns/configmaps/a');
  assert.equal(resourcePath(db, 'ns', 'main', 'status'), '/apis/lokdarpan.io/v1alpha1/namespaces/ns/lokdarpandatabases/main/status');
  assert.equal(resourcePath(crd, 'ignored', 'x'), '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x');
});

test('MicroTime has 6 fractional digits; metav1.Time has none', () => {
  const d = new Date('2026-05-06T07:08:09.012Z');
  assert.equal(microTime(d), '2026-05-06T07:08:09.012000Z');
  assert.equal(rfc3339(d), '2026-05-06T07:08:09Z');
  assert.equal(parseKubeTime('2026-05-06T07:08:09.012345Z'), Date.parse('2026-05-06T07:08:09.012Z'));
  assert.equal(parseKubeTime(d), d.getTime());
  assert.equal(parseKubeTime(''), undefined);
  assert.equal(parseKubeTime('nope'), undefined);
});

test('API errors are classified by status code and give the server message', () => {
  const conflict = new ApiException(409, 'Unsuccessful HTTP Request', { kind: 'Status', message: 'the object has been modified' }, {});
  assert.equal(apiStatusCode(conflict), 409);
  assert.ok(isConflict(conflict));
  assert.equal(apiErrorMessage(conflict), 'the object has been modified');
  const asString = new ApiException(404, 'x', JSON.stringify({ message: 'configmaps "a" not found' }), {});
  assert.ok(isNotFound(asString));
  assert.equal(apiErrorMessage(asString), 'configmaps "a" not found');
  assert.ok(isGone({ statusCode: 410 }));
  assert.equal(apiStatusCode(new Error('x')), undefined);
  assert.equal(apiErrorMessage(new ApiException(500, 'x', undefined, {})), 'HTTP 500');
});

test('the resource of a request path is its plural and subresource, never a name', () => {
  assert.equal(resourceOfPath('/api/v1/namespaces/ns/secrets/db-password'), 'secrets');
  assert.equal(resourceOfPath('/apis/lokdarpan.io/v1alpha1/namespaces/ns/lokdarpandatabases/main/status'), 'lokdarpandatabases/status');
  assert.equal(resourceOfPath('/apis/lokdarpan.io/v1alpha1/lokdarpandatabases?limit=500'), 'lokdarpandatabases');
  assert.equal(resourceOfPath('/apis/events.k8s.io/v1/namespaces/ns/events'), 'events');
  assert.equal(resourceOfPath('/api/v1/namespaces/ns'), 'namespaces');
  assert.equal(resourceOfPath('/api/v1/namespaces'), 'namespaces');
  assert.equal(resourceOfPath('/apis/coordination.k8s.io/v1/namespaces/sys/leases/lokdarpan-operator'), 'leases');
  assert.equal(resourceOfPath('/version'), 'other');
});
