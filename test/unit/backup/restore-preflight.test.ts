// How a restore creates its new database: the plan for a superuser, a CREATEDB role with the
// extensions in template1 or trusted, an admin connection; and every missing piece named at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keptExtensions, planCreation } from '../../../src/engines/restore/preflight.ts';
import { archiveExtensions, listingWithout, type CreationFacts } from '../../../src/adapters/pgdump/provision.ts';

const LISTING = `;
; Selected TOC Entries:
;
6; 2615 2200 SCHEMA - public app_owner
2; 3079 16386 EXTENSION - vector 
3586; 0 0 COMMENT - EXTENSION vector 
3; 3079 16400 EXTENSION - pgcrypto 
3587; 0 0 COMMENT - EXTENSION pgcrypto 
215; 1259 16714 TABLE public post app_owner
3588; 0 0 COMMENT public TABLE post app_owner
3579; 0 16714 TABLE DATA public post app_owner
`;

function facts(over: Partial<CreationFacts> & { super?: boolean; createdb?: boolean } = {}): CreationFacts {
  return {
    role: { user: 'restorer', superuser: over.super ?? false, createdb: over.createdb ?? true },
    available: over.available ?? [{ name: 'vector', trusted: false }, { name: 'pgcrypto', trusted: true }],
    template1Extensions: over.template1Extensions ?? ['plpgsql', 'vector'],
    template1UserObjects: over.template1UserObjects ?? 0,
  };
}

test('the archive listing names its extensions; the restore list skips exactly their entries', () => {
  assert.deepEqual(archiveExtensions(LISTING), ['pgcrypto', 'vector']);
  const list = listingWithout(LISTING, ['vector']).split('\n');
  assert.ok(list.includes(';2; 3079 16386 EXTENSION - vector '));
  assert.ok(list.includes(';3586; 0 0 COMMENT - EXTENSION vector '));
  assert.ok(list.includes('3; 3079 16400 EXTENSION - pgcrypto '));
  assert.ok(list.includes('3588; 0 0 COMMENT public TABLE post app_owner'));
  assert.equal(list.filter((l) => l.startsWith(';') && /^;\d/.test(l)).length, 2);
});

test("an existing database: the archive's extensions another role owns are kept (their entries skipped), and one at another version than the server's is said", () => {
  const plpgsql = { name: 'plpgsql', owner: 'postgres', version: '1.0', defaultVersion: '1.0' };
  const vector = { name: 'vector', owner: 'postgres', version: '0.8.0', defaultVersion: '0.8.0' };
  assert.deepEqual(keptExtensions(archiveExtensions(LISTING), [plpgsql, vector]), { kept: ['vector'], warnings: [] });
  assert.deepEqual(keptExtensions(['pgcrypto'], [plpgsql, vector]), { kept: [], warnings: [] }, 'an extension the archive does not create is not its business');
  assert.deepEqual(keptExtensions(['vector'], []), { kept: [], warnings: [] }, 'a superuser (or the owner) drops and re-creates as before');
  assert.deepEqual(keptExtensions(['vector'], [{ ...vector, version: '0.7.4' }]), {
    kept: ['vector'],
    warnings: ['extension vector stays at version 0.7.4 (its owner postgres installed it; the restore may not re-create it), the server has 0.8.0: postgres may run ALTER EXTENSION vector UPDATE'],
  });
  assert.deepEqual(keptExtensions(['vector'], [{ ...vector, defaultVersion: null }]).warnings, [], 'no files on the server: nothing to update to');
});

test('a superuser creates from template0 as before', () => {
  assert.deepEqual(planCreation({ database: 'd', needed: ['vector'], target: facts({ super: true, template1Extensions: [] }) }), {
    ok: true, plan: { template: 'template0', viaAdmin: false, adminExtensions: [], preinstalled: [] },
  });
});

test('a CREATEDB role uses template1: its extensions are skipped, trusted ones pg_restore creates', () => {
  assert.deepEqual(planCreation({ database: 'd', needed: ['pgcrypto', 'vector'], target: facts() }), {
    ok: true, plan: { template: 'template1', viaAdmin: false, adminExtensions: [], preinstalled: ['vector'] },
  });
});

test('everything missing is named at once, before anything is created', () => {
  const decision = planCreation({
    database: 'restored',
    needed: ['postgis', 'vector'],
    target: facts({ createdb: false, template1Extensions: ['plpgsql'], template1UserObjects: 3 }),
  });
  assert.equal(decision.ok, false);
  const text = decision.ok ? '' : decision.missing.join('\n');
  assert.match(text, /role restorer may not create databases \(ALTER ROLE restorer CREATEDB/);
  assert.match(text, /template1 holds 3 user objects that database restored would inherit/);
  assert.match(text, /extension postgis is not installed on the server/);
  assert.match(text, /extension vector is not in template1 and only a superuser may create it \(a superuser runs CREATE EXTENSION vector in template1, or set spec.target.adminConnectionSecret/);
});

test('an admin connection creates the database (owned by the restorer) and every needed extension', () => {
  const admin = { facts: { ...facts({ super: true }), role: { user: 'admin', superuser: true, createdb: true } }, canOwn: true };
  assert.deepEqual(planCreation({ database: 'd', needed: ['vector'], target: facts({ createdb: false, template1Extensions: [] }), admin }), {
    ok: true, plan: { template: 'template0', viaAdmin: true, adminExtensions: ['vector'], preinstalled: ['vector'] },
  });
  const weak = { facts: { ...facts(), role: { user: 'admin', superuser: false, createdb: false } }, canOwn: false };
  const decision = planCreation({ database: 'd', needed: ['vector', 'pgcrypto'], target: facts(), admin: weak });
  assert.equal(decision.ok, false);
  const text = decision.ok ? '' : decision.missing.join('\n');
  assert.match(text, /admin role admin has neither CREATEDB nor SUPERUSER/);
  assert.match(text, /may not create a database owned by restorer/);
  assert.match(text, /extension vector is not trusted and the admin role admin is not a superuser/);
  assert.doesNotMatch(text, /pgcrypto/);
});
