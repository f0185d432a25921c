// The adopters the LokDarpan deployments use, wired to a migrations directory.
import { join } from 'node:path';
import type { Adopter } from '../adoption.ts';
import { lokdarpanFlaskAdopter } from './lokdarpan-flask.ts';

/** The Flask-era adopter with its fix-up file `<migrationsDir>/adopt/lokdarpan-flask.sql` (run when present). */
export function lokdarpanAdopters(migrationsDir: string): Adopter[] {
  return [lokdarpanFlaskAdopter({ baselineThrough: '003', fixupSqlPath: join(migrationsDir, 'adopt', 'lokdarpan-flask.sql') })];
}
