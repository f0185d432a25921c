// A small, hand-made data set with numbers worked out by hand in docs/schema.md and in
// test/integration/schema.test.ts: 16 posts in Jubilee Hills, 3 in Khairatabad, ward profiles keyed
// the way the Flask seeders wrote them (a NUMBER for Jubilee Hills, a name for Khairatabad).
// Times are hours before the database's now(), away from every window boundary.
import type pg from 'pg';

export interface KnownPost {
  ref: number;
  city: string;
  party: string | null;
  emotion: string | null;
  hoursAgo: number;
  author: string | null;
}

export interface KnownWardProfile {
  wardId: string;
  electors: number;
  votesCast: number;
  turnoutPct: number;
  lastWinnerParty: string;
  lastWinnerYear: number;
}

export interface KnownDataset {
  authors: string[];
  posts: KnownPost[];
  wardProfiles: KnownWardProfile[];
}

const D = 24;

export function knownDataset(): KnownDataset {
  const jh = 'Jubilee Hills';
  const posts: KnownPost[] = [
    { ref: 1, city: jh, party: 'BJP', emotion: 'Positive', hoursAgo: 26, author: 'Ravi Reddy' },
    { ref: 2, city: jh, party: 'BJP', emotion: 'Hopeful', hoursAgo: 50, author: 'Ravi Reddy' },
    { ref: 3, city: jh, party: 'BJP', emotion: 'Anger', hoursAgo: 70, author: 'Ayesha Khan' },
    { ref: 4, city: jh, party: 'INC', emotion: 'Negative', hoursAgo: 30, author: 'Ayesha Khan' },
    { ref: 5, city: jh, party: 'BRS', emotion: 'Neutral', hoursAgo: 98, author: 'Venkat Goud' },
    { ref: 6, city: jh, party: 'TRS', emotion: 'Pride', hoursAgo: 122, author: 'Venkat Goud' },
    { ref: 7, city: jh, party: 'BJP', emotion: 'Frustration', hoursAgo: 10 * D, author: 'Kiran Rao' },
    { ref: 8, city: jh, party: 'INC', emotion: 'Positive', hoursAgo: 12 * D, author: 'Kiran Rao' },
    { ref: 9, city: jh, party: 'INC', emotion: 'Unknown', hoursAgo: 15 * D, author: null },
    { ref: 10, city: jh, party: 'BRS', emotion: 'Hopeful', hoursAgo: 20 * D, author: 'Padma Naidu' },
    { ref: 11, city: jh, party: 'Independent', emotion: 'Admiration', hoursAgo: 25 * D, author: 'Padma Naidu' },
    { ref: 12, city: jh, party: 'BJP', emotion: 'Positive', hoursAgo: 28 * D, author: 'Ravi Reddy' },
    { ref: 13, city: jh, party: 'BJP', emotion: 'Positive', hoursAgo: 40 * D, author: 'Ravi Reddy' },
    { ref: 14, city: jh, party: 'AIMIM', emotion: 'Negative', hoursAgo: 60 * D, author: 'Imran Ali' },
    { ref: 15, city: jh, party: null, emotion: 'Positive', hoursAgo: 50, author: null },
    { ref: 16, city: jh, party: null, emotion: null, hoursAgo: 70, author: 'Imran Ali' },
    { ref: 17, city: 'Khairatabad', party: 'BRS', emotion: 'Sadness', hoursAgo: 5, author: 'Swathi Varma' },
    { ref: 18, city: 'Khairatabad', party: 'INC', emotion: 'Hopeful', hoursAgo: 8 * D, author: 'Swathi Varma' },
    { ref: 19, city: 'Khairatabad', party: 'bjp', emotion: 'positive', hoursAgo: 100 * D, author: null },
  ];
  return {
    authors: [...new Set(posts.map((p) => p.author).filter((a): a is string => a !== null))],
    posts,
    wardProfiles: [
      { wardId: '95', electors: 61234, votesCast: 27555, turnoutPct: 45, lastWinnerParty: 'BRS', lastWinnerYear: 2020 },
      { wardId: 'Khairatabad', electors: 52000, votesCast: 20800, turnoutPct: 40, lastWinnerParty: 'BRS', lastWinnerYear: 2020 },
    ],
  };
}

/**
 * Inserts the known data set with times relative to the database's `now()`; returns the post ids by
 * `ref` and the database time used.
 */
export async function loadKnownDataset(client: pg.ClientBase, data: KnownDataset = knownDataset()): Promise<{ now: Date; postIds: Map<number, number> }> {
  const now = (await client.query<{ now: Date }>('SELECT now() AS now')).rows[0]!.now;
  const authorIds = new Map<string, number>();
  for (const name of data.authors) {
    const { rows } = await client.query<{ id: number }>('INSERT INTO author (name) VALUES ($1) RETURNING id', [name]);
    authorIds.set(name, rows[0]!.id);
  }
  const postIds = new Map<number, number>();
  for (const p of data.posts) {
    const { rows } = await client.query<{ id: number }>(
      `INSERT INTO post (text, author_id, city, emotion, party, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [`known post ${p.ref} about development in ${p.city}`, p.author === null ? null : authorIds.get(p.author), p.city, p.emotion, p.party,
        new Date(now.getTime() - p.hoursAgo * 3_600_000)],
    );
    postIds.set(p.ref, rows[0]!.id);
  }
  for (const w of data.wardProfiles) {
    await client.query(
      `INSERT INTO ward_profile (ward_id, electors, votes_cast, turnout_pct, last_winner_party, last_winner_year) VALUES ($1, $2, $3, $4, $5, $6)`,
      [w.wardId, w.electors, w.votesCast, w.turnoutPct, w.lastWinnerParty, w.lastWinnerYear],
    );
  }
  return { now, postIds };
}
