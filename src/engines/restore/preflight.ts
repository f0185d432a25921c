// Decides how a restore creates its new database, before anything is created: which template, which
// connection creates it, which extensions an admin creates first and which archive entries pg_restore
// then skips. Or, when none of that can work, exactly what is missing. For an existing database: which
// of its extensions pg_restore leaves alone.
import type { CreationFacts, ForeignExtension } from '../../adapters/pgdump/provision.ts';

export interface CreationPlan {
  template: 'template0' | 'template1';
  /** The admin connection creates the database (owned by the restoring role) and `adminExtensions` in it. */
  viaAdmin: boolean;
  adminExtensions: string[];
  /** Extensions that exist in the new database before pg_restore runs: their entries are skipped. */
  preinstalled: string[];
}

export interface CreationInput {
  database: string;
  /** Extensions the archive creates. */
  needed: readonly string[];
  /** The restoring role's facts. */
  target: CreationFacts;
  /** The admin connection's facts, when one is given; `canOwn`: it may make the restoring role the owner. */
  admin?: { facts: CreationFacts; canOwn: boolean };
}

export type CreationDecision = { ok: true; plan: CreationPlan } | { ok: false; missing: string[] };

const ADMIN_HINT = 'or set spec.target.adminConnectionSecret to a role that may';

export function planCreation(input: CreationInput): CreationDecision {
  const missing: string[] = [];
  const available = new Map(input.target.available.map((e) => [e.name, e]));
  if (input.admin !== undefined) {
    const admin = input.admin.facts.role;
    if (!admin.superuser && !admin.createdb) missing.push(`the admin role ${admin.user} has neither CREATEDB nor SUPERUSER`);
    if (!input.admin.canOwn) missing.push(`the admin role ${admin.user} may not create a database owned by ${input.target.role.user} (it must be a superuser or a member of that role)`);
    for (const name of input.needed) {
      const ext = available.get(name);
      if (ext === undefined) missing.push(`extension ${name} is not installed on the server (its files are missing)`);
      else if (!admin.superuser && !ext.trusted) missing.push(`extension ${name} is not trusted and the admin role ${admin.user} is not a superuser`);
    }
    return missing.length > 0 ? { ok: false, missing } : { ok: true, plan: { template: 'template0', viaAdmin: true, adminExtensions: [...input.needed], preinstalled: [...input.needed] } };
  }

  const role = input.target.role;
  if (role.superuser) return { ok: true, plan: { template: 'template0', viaAdmin: false, adminExtensions: [], preinstalled: [] } };
  if (!role.createdb) missing.push(`role ${role.user} may not create databases (ALTER ROLE ${role.user} CREATEDB, ${ADMIN_HINT})`);
  if (input.target.template1UserObjects > 0) {
    missing.push(`template1 holds ${input.target.template1UserObjects} user objects that database ${input.database} would inherit (clean template1, ${ADMIN_HINT})`);
  }
  const inTemplate = new Set(input.target.template1Extensions);
  const preinstalled: string[] = [];
  for (const name of input.needed) {
    if (inTemplate.has(name)) {
      preinstalled.push(name);
      continue;
    }
    const ext = available.get(name);
    if (ext === undefined) missing.push(`extension ${name} is not installed on the server (its files are missing)`);
    else if (!ext.trusted) missing.push(`extension ${name} is not in template1 and only a superuser may create it (a superuser runs CREATE EXTENSION ${name} in template1, ${ADMIN_HINT})`);
  }
  return missing.length > 0 ? { ok: false, missing } : { ok: true, plan: { template: 'template1', viaAdmin: false, adminExtensions: [], preinstalled } };
}

export interface KeptExtensions {
  /** Extensions the archive creates that exist in the target and belong to another role: their entries are skipped. */
  kept: string[];
  /** A kept extension at another version than the server's default (the one a superuser's restore would create). */
  warnings: string[];
}

/**
 * Of the archive's extensions (`needed`), those an existing target already has and its role may not
 * drop or comment on (`foreign`: another role owns them). Like `preinstalled` for a new database, they
 * stay as they are. A dump does not record an extension's version; a superuser's overwrite drops and
 * re-creates it at the server's default version, so a kept one at another version is said.
 */
export function keptExtensions(needed: readonly string[], foreign: readonly ForeignExtension[]): KeptExtensions {
  const kept = foreign.filter((e) => needed.includes(e.name));
  return {
    kept: kept.map((e) => e.name),
    warnings: kept
      .filter((e) => e.defaultVersion !== null && e.defaultVersion !== e.version)
      .map((e) => `extension ${e.name} stays at version ${e.version} (its owner ${e.owner} installed it; the restore may not re-create it), the server has ${e.defaultVersion}: ${e.owner} may run ALTER EXTENSION ${e.name} UPDATE`),
  };
}
