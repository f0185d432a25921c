// The umzug storage over the history table. umzug logs a migration after `up()` returns, in a separate
// step; here the runner has already written (or deleted) the row inside the migration's own
// transaction, so log/unlog only check that it did. A crash between the two leaves nothing to repair.
import type { UmzugStorage } from 'umzug';
import type { Queryable } from '../../adapters/postgres/session.ts';
import { hasHistoryRow, readHistory, type HistoryTable } from './history.ts';

export function historyStorage(client: Queryable, table: HistoryTable): UmzugStorage {
  return {
    async executed() {
      return (await readHistory(client, table)).map((r) => r.name);
    },
    async logMigration({ name }) {
      if (!(await hasHistoryRow(client, table, name))) {
        throw new Error(`internal: migration ${name} ran but its history row was not written in its transaction`);
      }
    },
    async unlogMigration({ name }) {
      if (await hasHistoryRow(client, table, name)) {
        throw new Error(`internal: migration ${name} was reverted but its history row is still there`);
      }
    },
  };
}
