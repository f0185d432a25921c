// The synthetic LokDarpan data generator: users, authors, e-papers, posts over several years, the
// GHMC/Assembly/Lok Sabha results of the 150 wards, ward profiles, AI embeddings (halfvec), model
// executions, reports, budgets and metrics. Deterministic for a seed and a `now`; loads with COPY.
// It targets an EMPTY schema at migration 004 or later (it needs no 005 object), writes explicit
// ids from 1 and moves the identity sequences past them.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { copyRows, vectorLiteral, type CopyValue } from './copy.ts';
import { Prng, WeightedPicker } from './prng.ts';
import {
  APP_EMOTIONS, BRS_RENAMED_AT, FIRST_NAMES, ISSUES, LAST_NAMES, PARTY_WEIGHTS, PUBLICATIONS, postText,
} from './vocabulary.ts';
import { GHMC_WARDS, type Ward } from './wards.ts';

export interface GenerateOptions {
  /** Any string or number; the same seed and `now` give the same rows. */
  seed: string | number;
  /** Number of posts (default 10 000). */
  posts?: number;
  /** Number of ai_embedding_store rows with a vector (default 1 000). */
  embeddings?: number;
  modelExecutions?: number;
  reports?: number;
  metrics?: number;
  /** Authors (default max(50, posts / 200), at most 20 000). */
  authors?: number;
  users?: number;
  /** How many years of history before `now` (default 3). */
  years?: number;
  /** The end of the generated history (default: the current time). */
  now?: Date;
  /** Embedding dimensions; must match the column (halfvec(3072) in migration 004). */
  embeddingDimensions?: number;
  /** From this many embeddings on, HNSW/IVFFlat indexes are dropped before the load and rebuilt after (default 2000). */
  rebuildVectorIndexFrom?: number;
  /** Called after each table with its row count. */
  onTable?: (table: string, rows: number, ms: number) => void;
}

export type Counts = Record<string, number>;

const DAY = 86_400_000;
const PARTIES_CONTESTING = ['BJP', 'INC', 'BRS', 'AIMIM', 'IND', 'NOTA'] as const;
const ELECTIONS = [
  { type: 'GHMC', year: 2016, round: null, at: Date.UTC(2016, 1, 2) },
  { type: 'LOKSABHA', year: 2019, round: null, at: Date.UTC(2019, 3, 11) },
  { type: 'ASSEMBLY', year: 2018, round: null, at: Date.UTC(2018, 11, 7) },
  { type: 'GHMC', year: 2020, round: null, at: Date.UTC(2020, 11, 1) },
  { type: 'ASSEMBLY', year: 2023, round: null, at: Date.UTC(2023, 10, 30) },
  { type: 'LOKSABHA', year: 2024, round: null, at: Date.UTC(2024, 4, 13) },
] as const;
const STATIONS_PER_WARD = 8;

type Db = pg.Client | pg.PoolClient | pg.Pool;

/** Generates and loads a data set; resolves with rows per table. */
export async function generateLokdarpanData(db: Db, options: GenerateOptions): Promise<Counts> {
  if (db instanceof pg.Pool) {
    const client = await db.connect();
    try {
      return await generateWith(client, options);
    } finally {
      client.release();
    }
  }
  return generateWith(db, options);
}

async function generateWith(client: pg.ClientBase, options: GenerateOptions): Promise<Counts> {
  const now = (options.now ?? new Date()).getTime();
  const years = options.years ?? 3;
  const posts = options.posts ?? 10_000;
  const embeddings = options.embeddings ?? 1_000;
  const executions = options.modelExecutions ?? 5_000;
  const reports = options.reports ?? 200;
  const metrics = options.metrics ?? 2_000;
  const authors = options.authors ?? Math.min(20_000, Math.max(50, Math.floor(posts / 200)));
  const users = options.users ?? 25;
  const dims = options.embeddingDimensions ?? 3072;
  const span = years * 365 * DAY;
  const root = new Prng(options.seed);

  const { rows } = await client.query<{ busy: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM author) OR EXISTS (SELECT 1 FROM post) OR EXISTS (SELECT 1 FROM election) AS busy',
  );
  if (rows[0]?.busy) throw new Error('the LokDarpan tables already hold data: the generator loads into an empty schema');

  const counts: Counts = {};
  const load = async (table: string, columns: readonly string[], data: Iterable<readonly CopyValue[]>): Promise<void> => {
    const started = performance.now();
    counts[table] = await copyRows(client, table, columns, data);
    options.onTable?.(table, counts[table], performance.now() - started);
  };

  // Ward activity: a few wards (Jubilee Hills, Khairatabad, ...) are far busier than others.
  const wardRng = root.fork('wards');
  const busy = new Set(['Jubilee Hills', 'Khairatabad', 'Banjara Hills', 'Begumpet', 'Himayath Nagar', 'Malkajgiri']);
  const wardPicker = new WeightedPicker<Ward>(
    GHMC_WARDS.map((w) => [w, Math.exp(wardRng.gaussian() * 0.6) * (busy.has(w.name) ? 4 : 1)] as const),
  );

  // --- users, authors, e-papers ------------------------------------------------------------------
  const userRng = root.fork('user');
  await load('user', ['id', 'username', 'email', 'password_hash', 'created_at', 'last_login', 'is_active', 'failed_login_attempts'],
    (function* () {
      for (let i = 1; i <= users; i++) {
        const created = now - span + userRng.next() * span * 0.5;
        yield [i, i === 1 ? 'admin' : `analyst${i}`, i === 1 ? 'admin@lokdarpan.example' : `analyst${i}@lokdarpan.example`,
          'scrypt:32768:8:1$synthetic$' + i.toString(16).padStart(8, '0'), new Date(created),
          new Date(now - userRng.next() * 30 * DAY), userRng.chance(0.92), userRng.chance(0.1) ? userRng.int(1, 4) : 0];
      }
    })());

  const authorRng = root.fork('author');
  const authorParty = new WeightedPicker(PARTY_WEIGHTS);
  await load('author', ['id', 'name', 'party'], (function* () {
    for (let i = 1; i <= authors; i++) {
      const party = authorRng.chance(0.4) ? authorParty.pick(authorRng) : null;
      yield [i, `${authorRng.pick(FIRST_NAMES)} ${authorRng.pick(LAST_NAMES)} #${i}`, party];
    }
  })());

  const epapers = Math.max(1, Math.floor(posts * 0.03));
  const epaperRng = root.fork('epaper');
  await load('epaper', ['id', 'publication_name', 'publication_date', 'raw_text', 'created_at', 'sha256'], (function* () {
    for (let i = 1; i <= epapers; i++) {
      const at = now - epaperRng.next() * span;
      const ward = wardPicker.pick(epaperRng);
      const text = `${epaperRng.pick(PUBLICATIONS)} city edition. ${ward.name}: ${epaperRng.pick(ISSUES)} ` +
        `and ${epaperRng.pick(ISSUES)} dominate the ward committee meeting. Article ${i}.`;
      yield [i, epaperRng.pick(PUBLICATIONS), new Date(at).toISOString().slice(0, 10), text, new Date(at + 6 * 3_600_000),
        createHash('sha256').update(`${i}\n${text}`).digest('hex')];
    }
  })());

  // --- posts -------------------------------------------------------------------------------------
  const postRng = root.fork('post');
  const partyPicker = new WeightedPicker(PARTY_WEIGHTS);
  const emotionPicker = new WeightedPicker(APP_EMOTIONS);
  await load('post', ['id', 'text', 'author_id', 'city', 'emotion', 'party', 'created_at', 'epaper_id'], (function* () {
    let nextEpaper = 1;
    for (let i = 1; i <= posts; i++) {
      // Skewed towards recent months (the platform grew), with election-season bursts.
      let at = now - Math.pow(postRng.next(), 1.8) * span;
      if (postRng.chance(0.08)) {
        const e = postRng.pick(ELECTIONS);
        if (e.at > now - span && e.at < now) at = Math.max(now - span, e.at - postRng.next() * 45 * DAY);
      }
      const ward = wardPicker.pick(postRng);
      let party = partyPicker.pick(postRng);
      if (party === 'BRS' && at < BRS_RENAMED_AT) party = 'TRS';
      const emotion = postRng.chance(0.04) ? null : emotionPicker.pick(postRng);
      const epaper = nextEpaper <= epapers && postRng.chance(0.03) ? nextEpaper++ : null;
      yield [i, postText(postRng, ward.name, party), postRng.chance(0.05) ? null : postRng.int(1, authors), ward.name,
        emotion, party, new Date(at), epaper];
    }
  })());

  // --- elections and results ---------------------------------------------------------------------
  await load('election', ['id', 'type', 'year', 'round', 'official_ref'],
    ELECTIONS.map((e, i) => [i + 1, e.type, e.year, e.round, `TSEC/${e.type}/${e.year}`]));

  const psRng = root.fork('polling_station');
  const stations: Array<{ psId: string; ward: Ward; electors: number }> = [];
  await load('polling_station', ['id', 'ps_id', 'name', 'address', 'lat', 'lon', 'ac_id', 'pc_id', 'ward_id', 'ward_name', 'source_meta'],
    (function* () {
      let id = 0;
      for (const ward of GHMC_WARDS) {
        const lat = 17.3 + psRng.next() * 0.25, lon = 78.35 + psRng.next() * 0.3;
        for (let s = 1; s <= STATIONS_PER_WARD; s++) {
          const psId = `GHMC-${String(ward.no).padStart(3, '0')}-${String(s).padStart(2, '0')}`;
          stations.push({ psId, ward, electors: psRng.int(900, 1500) });
          yield [++id, psId, `ZPHS ${ward.name} room ${s}`, `${ward.name}, Hyderabad`, +(lat + psRng.gaussian() * 0.003).toFixed(6),
            +(lon + psRng.gaussian() * 0.003).toFixed(6), `AC-${Math.ceil(ward.no / 6)}`, `PC-${Math.ceil(ward.no / 30)}`,
            ward.name, ward.name, { source: 'synthetic', seed: String(options.seed) }];
        }
      }
    })());

  // Votes per station: a ward-level lean per party plus station noise.
  const resultRng = root.fork('results');
  const wardAgg = new Map<string, { votes: number; polled: number; electors: number }>();
  const winners = new Map<string, { party: string; year: number }>();
  const shares = new Map<string, Record<string, number>>();
  await load('result_ps', ['id', 'election_id', 'ps_id', 'party', 'candidate', 'votes', 'total_polled', 'rejected', 'created_at'],
    (function* () {
      let id = 0;
      const lean = new Map(GHMC_WARDS.map((w) => [w.no, PARTIES_CONTESTING.map(() => Math.exp(resultRng.gaussian() * 0.5))]));
      for (let e = 0; e < ELECTIONS.length; e++) {
        const election = ELECTIONS[e]!;
        for (const st of stations) {
          const base = lean.get(st.ward.no)!;
          const weights = PARTIES_CONTESTING.map((p, k) =>
            base[k]! * Math.exp(resultRng.gaussian() * 0.25) * (p === 'NOTA' ? 0.05 : p === 'IND' ? 0.2 : p === 'AIMIM' ? 0.6 : 1));
          const total = weights.reduce((a, b) => a + b, 0);
          const polled = Math.round(st.electors * (0.4 + resultRng.next() * 0.25));
          for (let k = 0; k < PARTIES_CONTESTING.length; k++) {
            const party = PARTIES_CONTESTING[k] === 'BRS' && election.year < 2023 ? 'TRS' : PARTIES_CONTESTING[k]!;
            const votes = Math.round((polled * weights[k]!) / total);
            const key = `${e + 1}|${st.ward.name}|${party}`;
            const agg = wardAgg.get(key) ?? { votes: 0, polled: 0, electors: 0 };
            agg.votes += votes;
            agg.polled += polled;
            agg.electors += st.electors;
            wardAgg.set(key, agg);
            yield [++id, e + 1, st.psId, party, party === 'NOTA' ? null : `${resultRng.pick(FIRST_NAMES)} ${resultRng.pick(LAST_NAMES)}`,
              votes, polled, resultRng.int(0, 12), new Date(Math.min(now, election.at + 3 * DAY))];
          }
        }
      }
    })());

  await load('result_ward_agg', ['id', 'election_id', 'ward_id', 'party', 'votes', 'vote_share', 'turnout_pct', 'computed_at'],
    (function* () {
      let id = 0;
      const byWard = new Map<string, Array<{ party: string; votes: number; polled: number; electors: number }>>();
      for (const [key, agg] of wardAgg) {
        const [e, ward, party] = key.split('|') as [string, string, string];
        const list = byWard.get(`${e}|${ward}`) ?? [];
        list.push({ party, ...agg });
        byWard.set(`${e}|${ward}`, list);
      }
      for (const [key, list] of byWard) {
        const [e, ward] = key.split('|') as [string, string];
        const election = ELECTIONS[Number(e) - 1]!;
        const valid = list.reduce((a, r) => a + r.votes, 0);
        const turnout = (100 * list[0]!.polled) / list[0]!.electors;
        const top = list.reduce((a, b) => (b.votes > a.votes && b.party !== 'NOTA' ? b : a));
        if (election.type === 'GHMC') winners.set(ward, { party: top.party, year: election.year });
        const share: Record<string, number> = {};
        for (const r of list) {
          const vs = Math.round((10000 * r.votes) / Math.max(1, valid)) / 100;
          share[r.party === 'TRS' ? 'BRS' : r.party] = vs;
          yield [++id, Number(e), ward, r.party, r.votes, vs, Math.round(turnout * 100) / 100, new Date(Math.min(now, election.at + 4 * DAY))];
        }
        shares.set(`${election.type}${election.year}|${ward}`, share);
      }
    })());

  const profileRng = root.fork('ward_profile');
  await load('ward_profile', ['id', 'ward_id', 'electors', 'votes_cast', 'turnout_pct', 'last_winner_party', 'last_winner_year', 'updated_at'],
    GHMC_WARDS.map((w) => {
      const electors = stations.filter((s) => s.ward.no === w.no).reduce((a, s) => a + s.electors, 0);
      const turnout = 38 + profileRng.next() * 22;
      const winner = winners.get(w.name);
      return [w.no, w.name, electors, Math.round((electors * turnout) / 100), Math.round(turnout * 100) / 100,
        winner?.party === 'TRS' ? 'BRS' : winner?.party ?? null, winner?.year ?? null, new Date(now - profileRng.next() * 90 * DAY)];
    }));

  const demoRng = root.fork('ward_demographics');
  await load('ward_demographics', ['id', 'ward_id', 'literacy_idx', 'muslim_idx', 'scst_idx', 'secc_deprivation_idx', 'updated_at'],
    GHMC_WARDS.map((w) => [w.no, w.name, round3(0.55 + demoRng.next() * 0.4), round3(demoRng.next() * 0.7),
      round3(0.05 + demoRng.next() * 0.25), round3(demoRng.next()), new Date(now - 200 * DAY)]));

  const featRng = root.fork('ward_features');
  await load('ward_features', ['id', 'ward_id', 'as23_party_shares', 'ls24_party_shares', 'dvi', 'aci_23', 'turnout_volatility',
    'incumbency_weakness', 'updated_at'],
    GHMC_WARDS.map((w) => {
      const as23 = shares.get(`ASSEMBLY2023|${w.name}`) ?? {};
      const ls24 = shares.get(`LOKSABHA2024|${w.name}`) ?? {};
      const dvi: Record<string, number> = {};
      for (const p of Object.keys(ls24)) dvi[p] = Math.round(((ls24[p] ?? 0) - (as23[p] ?? 0)) * 100) / 100;
      return [w.no, w.name, as23, ls24, dvi, Math.round(((as23['INC'] ?? 0) + (as23['BJP'] ?? 0)) * 100) / 100,
        round3(featRng.next() * 12), { score: round3(featRng.next()), incumbent: winners.get(w.name)?.party ?? null }, new Date(now - 100 * DAY)];
    }));

  const alertRng = root.fork('alert');
  await load('alert', ['id', 'ward', 'description', 'severity', 'opportunities', 'threats', 'actionable_alerts', 'source_articles',
    'created_at', 'updated_at'], (function* () {
    let id = 0;
    for (const w of GHMC_WARDS) {
      for (let k = 0; k < 2; k++) {
        const at = now - alertRng.next() * 180 * DAY;
        const issue = alertRng.pick(ISSUES);
        yield [++id, w.name, `Rising discussion of ${issue} in ${w.name}`, alertRng.pick(['High', 'Medium', 'Info']),
          JSON.stringify([`Lead the ${issue} conversation`]), JSON.stringify([`Opposition rally on ${issue}`]),
          JSON.stringify([`Visit ${w.name} within 48h`]), JSON.stringify([]), new Date(at), new Date(at + alertRng.next() * 2 * DAY)];
      }
    }
  })());

  // --- AI tables ---------------------------------------------------------------------------------
  // Maintaining HNSW row by row costs milliseconds per 3072-d row; for big loads the index is
  // dropped and rebuilt from its own definition afterwards (a bulk build is several times faster).
  const vectorIndexes = embeddings >= (options.rebuildVectorIndexFrom ?? 2_000)
    ? (await client.query<{ name: string; def: string }>(
        `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS def FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_am a ON a.oid = i.relam WHERE x.indrelid = 'ai_embedding_store'::regclass AND a.amname IN ('hnsw', 'ivfflat')`,
      )).rows
    : [];
  for (const index of vectorIndexes) await client.query(`DROP INDEX ${quote(index.name)}`);
  const embRng = root.fork('embedding');
  const topics = Array.from({ length: 24 }, () => unit(Array.from({ length: dims }, () => embRng.gaussian())));
  const sourceTypes = new WeightedPicker<string>([['news', 45], ['perplexity', 15], ['analysis', 15], ['epaper', 15], ['report', 5], ['manual', 5]]);
  await load('ai_embedding_store', ['id', 'content_hash', 'source_type', 'source_url', 'source_title', 'content_chunk', 'chunk_index',
    'published_at', 'fetched_at', 'expires_at', 'ward_context', 'region_context', 'political_entities', 'embedding', 'content_type',
    'language', 'political_relevance_score', 'credibility_score', 'created_at', 'updated_at', 'last_accessed_at', 'access_count'],
  (function* () {
    const v = new Float64Array(dims);
    for (let i = 1; i <= embeddings; i++) {
      const topic = topics[i % topics.length]!;
      let norm = 0;
      for (let d = 0; d < dims; d++) {
        v[d] = topic[d]! + (embRng.next() - 0.5) * 0.07; // uniform noise, sd ~0.02
        norm += v[d]! * v[d]!;
      }
      norm = Math.sqrt(norm);
      for (let d = 0; d < dims; d++) v[d] = v[d]! / norm;
      const ward = wardPicker.pick(embRng);
      const source = sourceTypes.pick(embRng);
      const published = now - Math.pow(embRng.next(), 1.5) * span;
      const fetched = published + embRng.next() * DAY;
      const chunk = `${ward.name}: ${embRng.pick(ISSUES)} — topic ${i % topics.length}, chunk ${i}.`;
      yield [i, createHash('sha256').update(chunk).digest('hex'), source, `https://news.example/${source}/${i}`,
        `${ward.name} ${embRng.pick(ISSUES)}`, chunk, 0, new Date(published), new Date(fetched),
        embRng.chance(0.1) ? new Date(fetched + 30 * DAY) : null, embRng.chance(0.9) ? ward.name : null, 'hyderabad',
        { parties: [embRng.pick(['BJP', 'INC', 'BRS', 'AIMIM'])] }, vectorLiteral(v),
        source === 'analysis' || source === 'report' ? source : 'news', embRng.chance(0.8) ? 'en' : embRng.pick(['te', 'hi']),
        round3(embRng.next()), round3(0.3 + embRng.next() * 0.7), new Date(fetched), new Date(fetched),
        embRng.chance(0.5) ? new Date(fetched + embRng.next() * (now - fetched)) : null, embRng.chance(0.5) ? embRng.int(1, 40) : 0];
    }
  })());

  for (const index of vectorIndexes) {
    const started = performance.now();
    await client.query(index.def);
    options.onTable?.(`index ${index.name}`, counts['ai_embedding_store'] ?? 0, performance.now() - started);
  }

  const execRng = root.fork('ai_model_execution');
  const models = [
    ['openai', 'gpt-4o', 0.0000025], ['openai', 'text-embedding-3-large', 0.00000013], ['anthropic', 'claude-3-5-sonnet', 0.000003],
    ['perplexity', 'sonar-pro', 0.000003], ['google', 'gemini-1.5-pro', 0.0000035],
  ] as const;
  const statuses = new WeightedPicker<string>([['success', 92], ['error', 4], ['timeout', 2], ['rate_limited', 2]]);
  await load('ai_model_execution', ['id', 'request_id', 'user_id', 'session_id', 'operation_type', 'priority_level', 'provider',
    'model_name', 'input_tokens', 'output_tokens', 'total_tokens', 'cached_tokens', 'latency_ms', 'cost_usd', 'budget_category',
    'success_status', 'error_code', 'retry_count', 'created_at', 'completed_at'], (function* () {
    for (let i = 1; i <= executions; i++) {
      const [provider, model, price] = execRng.pick(models);
      const input = execRng.int(50, 6000), output = model.startsWith('text-embedding') ? 0 : execRng.int(20, 2000);
      const status = statuses.pick(execRng);
      const at = now - Math.pow(execRng.next(), 1.3) * Math.min(span, 365 * DAY);
      const latency = Math.round(200 + Math.exp(6 + execRng.gaussian() * 0.7));
      yield [i, uuid(execRng), execRng.chance(0.85) ? execRng.int(1, users) : null, `s-${execRng.int(1, 5000)}`,
        model.startsWith('text-embedding') ? 'embedding' : execRng.pick(['report_generation', 'retrieval', 'summarisation']),
        execRng.chance(0.1) ? 'high' : 'normal', provider, model, input, output, input + output,
        execRng.chance(0.3) ? execRng.int(0, input) : 0, latency, ((input + output) * price).toFixed(8), execRng.pick(['analysis', 'reports', 'embeddings']),
        status, status === 'success' ? null : status.toUpperCase(), status === 'success' ? 0 : execRng.int(0, 3),
        new Date(at), new Date(at + latency)];
    }
  })());

  const reportRng = root.fork('ai_geopolitical_report');
  await load('ai_geopolitical_report', ['id', 'report_uuid', 'user_id', 'query_text', 'query_hash', 'ward_context', 'status',
    'report_title', 'executive_summary', 'key_findings', 'total_cost_usd', 'confidence_score', 'requested_at', 'completed_at',
    'last_accessed_at', 'expires_at', 'access_count', 'is_archived', 'archive_reason'], (function* () {
    for (let i = 1; i <= reports; i++) {
      const ward = wardPicker.pick(reportRng);
      const query = `Strategic outlook for ${ward.name}: ${reportRng.pick(ISSUES)}`;
      const at = now - reportRng.next() * span;
      const status = reportRng.chance(0.9) ? 'completed' : reportRng.pick(['failed', 'processing', 'queued']);
      const completed = status === 'completed' ? at + reportRng.int(30, 600) * 1000 : null;
      const archived = completed !== null && at < now - 400 * DAY && reportRng.chance(0.5);
      yield [i, uuid(reportRng), reportRng.int(1, users), query, createHash('sha256').update(query).digest('hex'), ward.name, status,
        `${ward.name} — ${reportRng.pick(ISSUES)}`, `Synthetic summary ${i}.`, [{ finding: reportRng.pick(ISSUES) }],
        (reportRng.next() * 2).toFixed(6), round3(0.5 + reportRng.next() * 0.5), new Date(at), completed === null ? null : new Date(completed),
        reportRng.chance(0.6) ? new Date(at + reportRng.next() * (now - at)) : null, reportRng.chance(0.2) ? new Date(at + 180 * DAY) : null,
        reportRng.int(0, 30), archived, archived ? 'auto_archive_inactive' : null];
    }
  })());

  const budgetRng = root.fork('ai_budget_tracker');
  await load('ai_budget_tracker', ['id', 'period_type', 'period_identifier', 'period_start', 'period_end', 'total_budget_usd',
    'current_spend_usd', 'request_count', 'budget_status', 'created_at', 'updated_at'], (function* () {
    const end = new Date(now);
    const months = years * 12;
    for (let m = months - 1, id = 1; m >= 0; m--, id++) {
      const start = Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - m, 1);
      const stop = Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - m + 1, 1);
      const d = new Date(start);
      const spend = budgetRng.next() * 500;
      yield [id, 'monthly', `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`, new Date(start), new Date(stop),
        '500.00', spend.toFixed(6), budgetRng.int(1000, 20000), spend > 450 ? 'warning' : 'normal', new Date(start), new Date(Math.min(now, stop))];
    }
  })());

  const metricRng = root.fork('ai_system_metrics');
  const metricNames = [['llm_latency_ms', 'performance', 'ms'], ['daily_cost_usd', 'cost', 'usd'], ['report_quality', 'quality', 'percent'],
    ['requests', 'usage', 'count']] as const;
  await load('ai_system_metrics', ['id', 'metric_name', 'metric_category', 'metric_scope', 'scope_identifier', 'metric_value', 'metric_unit',
    'threshold_warning', 'period_start', 'period_end', 'aggregation_type', 'sample_count', 'created_at'], (function* () {
    for (let i = 1; i <= metrics; i++) {
      const [name, category, unit] = metricRng.pick(metricNames);
      const at = now - metricRng.next() * Math.min(span, 2 * 365 * DAY);
      yield [i, name, category, 'system', null, round3(metricRng.next() * 1000), unit, metricRng.chance(0.3) ? 800 : null,
        new Date(at - 3_600_000), new Date(at), metricRng.pick(['avg', 'p95', 'sum']), metricRng.int(1, 500), new Date(at)];
    }
  })());

  // Identity sequences past the explicit ids.
  for (const table of Object.keys(counts)) {
    await client.query(
      `SELECT setval(pg_get_serial_sequence($1, 'id'), GREATEST((SELECT max(id) FROM ${quote(table)}), 1), (SELECT max(id) IS NOT NULL FROM ${quote(table)}))`,
      [quote(table)],
    );
  }
  return counts;
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function unit(v: number[]): number[] {
  const n = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  return v.map((x) => x / n);
}

function uuid(rng: Prng): string {
  const hex = Array.from({ length: 32 }, () => rng.int(0, 15).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[rng.int(0, 3)]}${hex.slice(17, 20)}-${hex.slice(20)}`;
}
