// The settings a validation probe holds the database to are the schema's database settings, and the
// message a missing one gives names them as the migrations list does (no literal that could drift).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lokdarpanProbes } from '../../../src/engines/validation/lokdarpan-probes.ts';
import { alterDatabaseSet, schemaDatabaseSettings } from '../../../src/engines/migrations/database-settings.ts';

test("each probe setting is one of the schema's database settings: its value, and a why naming its migration and the statement", () => {
  const checked = lokdarpanProbes.flatMap((p) => Object.entries(p.settingsAtLeast ?? {}).map(([name, s]) => ({ probe: p.name, name, ...s })));
  assert.ok(checked.length > 0, 'some probe checks a setting');
  for (const { probe, name, value, why } of checked) {
    const setting = schemaDatabaseSettings.find((s) => s.name === name);
    assert.ok(setting, `${probe}: ${name} is not a schema database setting`);
    assert.equal(value, setting.value, `${probe}: ${name}`);
    assert.ok(why.startsWith(`migration ${setting.migration} sets it for the database;`), why);
    assert.ok(why.endsWith(alterDatabaseSet(setting, '...')), why);
  }
  assert.equal(alterDatabaseSet({ name: 'hnsw.ef_search', value: 300, migration: '008_hnsw_ef_search', load: '' }, '"db"'), 'ALTER DATABASE "db" SET hnsw.ef_search = 300');
});
