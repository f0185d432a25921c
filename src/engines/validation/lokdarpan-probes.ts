// The queries LokDarpan's performance targets are about (the migration guide's targets): the ward
// dashboard query, a top-10 vector similarity search, full-text search on posts and the competitive
// analysis function. Parameters come from the newest real rows, so the probes measure real data.
import type pg from 'pg';
import type { Probe } from './validate.ts';
import { alterDatabaseSet, HNSW_EF_SEARCH_SETTING } from '../migrations/database-settings.ts';

/**
 * Full-text search as the original application runs it (migration 006 gives post its search_vector
 * column back): the term parsed with the session's default_text_search_config, ranked with ts_rank,
 * LIMIT 20. Every match is found through the GIN index (ORDER BY id DESC LIMIT 20 would walk the
 * primary key instead and never need the GIN).
 */
export const APP_FULL_TEXT_SEARCH = `SELECT id, ts_rank(search_vector, plainto_tsquery($1)) AS rank
          FROM post WHERE search_vector @@ plainto_tsquery($1)
          ORDER BY rank DESC, id DESC LIMIT 20`;

/** The same search on a database before 006 (005's expression index, 'simple' configuration). */
export const EXPRESSION_FULL_TEXT_SEARCH = `SELECT p.id, ts_rank(post_search_document(p.text, p.city, p.emotion, p.party), q.query) AS rank
          FROM post p, websearch_to_tsquery('simple'::regconfig, $1) AS q(query)
          WHERE post_search_document(p.text, p.city, p.emotion, p.party) @@ q.query
          ORDER BY rank DESC, p.id DESC LIMIT 20`;

async function hasSearchVectorColumn(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ found: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('post') AND attname = 'search_vector' AND NOT attisdropped) AS found`,
  );
  return rows[0]?.found === true;
}

/** The HNSW candidate list migration 008 makes the database default (recall@10 >= 0.95 at 100k embeddings with 009's graph). */
export const HNSW_EF_SEARCH = HNSW_EF_SEARCH_SETTING.value;

export const lokdarpanProbes: readonly Probe[] = [
  {
    name: 'wardQuery',
    threshold: 'wardQueryP95Ms',
    requiresIndex: true,
    indexes: ['ix_post_city_created'],
    async parameters(client) {
      const { rows } = await client.query<{ city: string }>(`SELECT city FROM post WHERE city IS NOT NULL ORDER BY created_at DESC LIMIT 1`);
      return rows[0] ? [rows[0].city] : undefined;
    },
    sql: `SELECT count(*) AS posts, count(DISTINCT author_id) AS authors, count(*) FILTER (WHERE party IS NOT NULL) AS party_mentions
          FROM post WHERE city = $1 AND created_at >= now() - interval '30 days'`,
  },
  {
    name: 'vectorSearch',
    threshold: 'vectorSearchP95Ms',
    requiresIndex: true,
    indexes: ['ix_ai_embedding_hnsw'],
    // With its vectors in TOAST (before 007), ai_embedding_store's small heap made a seq scan look
    // cheap to the planner from ~10k rows on. With the vectors inline, the HNSW scan wins from ~2000
    // rows at ef_search 40, from ~10 500 at 008's 300 with 004's graph (m 16) and from 12 000-16 000 with
    // 009's m 24 (pgvector's estimate grows with ef_search and m; below that the exact seq scan is the
    // planner's right choice), so from 16 000 rows on a plan that passes over the index is a fault, not
    // a choice (docs/schema.md, 009).
    planMustUseIndexFrom: { table: 'ai_embedding_store', rows: 16_000 },
    // Recall: at pgvector's default (40) the HNSW scan finds ~0.8 of the exact top 10 over 100k rows.
    settingsAtLeast: {
      [HNSW_EF_SEARCH_SETTING.name]: {
        value: HNSW_EF_SEARCH,
        why: `migration ${HNSW_EF_SEARCH_SETTING.migration} sets it for the database; a dump restored by hand into a new database loses it: ${alterDatabaseSet(HNSW_EF_SEARCH_SETTING, '...')}`,
      },
    },
    async parameters(client) {
      const { rows } = await client.query<{ embedding: string }>(
        `SELECT embedding::text AS embedding FROM ai_embedding_store WHERE embedding IS NOT NULL ORDER BY id DESC LIMIT 1`,
      );
      return rows[0] ? [rows[0].embedding] : undefined;
    },
    sql: `SELECT id FROM ai_embedding_store ORDER BY embedding <=> $1::halfvec LIMIT 10`,
  },
  {
    name: 'fullTextSearch',
    threshold: 'fullTextSearchP95Ms',
    requiresIndex: true,
    indexes: ['ix_post_search_vector'],
    async parameters(client) {
      // A word of the newest post that the search configuration keeps (not a stop word).
      const { rows } = await client.query<{ word: string }>(
        `SELECT w AS word FROM (SELECT regexp_split_to_table(text, '\\s+') AS w FROM (SELECT text FROM post ORDER BY id DESC LIMIT 1) p) words
         WHERE length(w) >= 4 AND numnode(plainto_tsquery(w)) > 0 LIMIT 1`,
      );
      return rows[0] ? [rows[0].word] : undefined;
    },
    sql: APP_FULL_TEXT_SEARCH,
    async sqlFor(client) {
      return (await hasSearchVectorColumn(client)) ? APP_FULL_TEXT_SEARCH : EXPRESSION_FULL_TEXT_SEARCH;
    },
  },
  {
    name: 'competitiveAnalysis',
    threshold: 'competitiveAnalysisP95Ms',
    requiresIndex: false,
    async parameters(client) {
      const { rows } = await client.query<{ city: string }>(`SELECT city FROM post WHERE city IS NOT NULL ORDER BY created_at DESC LIMIT 1`);
      return rows[0] ? [rows[0].city] : undefined;
    },
    sql: `SELECT * FROM get_ward_competitive_analysis($1, 30)`,
  },
];
