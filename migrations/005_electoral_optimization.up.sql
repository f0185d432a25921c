-- 005_electoral_optimization: what makes ward-level analytics fast and correct on a live `post` table.
--  * `ward`: the 150 GHMC wards, so a ward number ("91") or a differently spelled name resolves to the
--    canonical name that post.city holds (the Flask seeders wrote numbers into ward_profile.ward_id).
--  * One emotion and one party vocabulary, applied by IMMUTABLE normalising functions: the data is
--    kept as the app writes it ('Positive', 'Hopeful', 'TRS', 'Independent'); CHECKs and analytics
--    compare normalised values (docs/schema.md has the tables).
--  * Indexes on post built CONCURRENTLY, one per no-transaction step (writers are never blocked);
--    full-text search is an expression GIN index built CONCURRENTLY instead of a stored tsvector
--    column, which would rewrite `post` under an ACCESS EXCLUSIVE lock (and needs no trigger).
--  * CHECK constraints added NOT VALID (a brief lock, no scan), then VALIDATEd in their own steps
--    (SHARE UPDATE EXCLUSIVE: writers go on).
--  * Both materialized views with the UNIQUE indexes that REFRESH ... CONCURRENTLY requires, and the
--    three functions, fixed (see docs/schema.md for the exact definitions of every number).
-- Every step is idempotent: a run killed between two steps re-runs from the first one.
-- lokdarpan:statement-timeout 120min

-- lokdarpan:step transaction
CREATE OR REPLACE FUNCTION lokdarpan_ward_key(p_name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT lower(regexp_replace(btrim(p_name), '\s+', ' ', 'g')) $$;

CREATE TABLE IF NOT EXISTS ward (
  ward_no  smallint     PRIMARY KEY CHECK (ward_no BETWEEN 1 AND 150),
  name     varchar(120) NOT NULL,
  name_key text         GENERATED ALWAYS AS (lokdarpan_ward_key(name)) STORED,
  CONSTRAINT uq_ward_name_key UNIQUE (name_key)
);

INSERT INTO ward (ward_no, name) VALUES
  (1, 'Kapra'), (2, 'Dr. A.S. Rao Nagar'), (3, 'Cherlapally'), (4, 'Meerpet H.B. Colony'), (5, 'Mallapur'),
  (6, 'Nacharam'), (7, 'Chilkanagar'), (8, 'Habsiguda'), (9, 'Ramanthapur'), (10, 'Uppal'),
  (11, 'Nagole'), (12, 'Mansoorabad'), (13, 'Hayathnagar'), (14, 'B.N. Reddy Nagar'), (15, 'Vanasthalipuram'),
  (16, 'Hastinapuram'), (17, 'Champapet'), (18, 'Lingojiguda'), (19, 'Saroornagar'), (20, 'R.K. Puram'),
  (21, 'Kothapet'), (22, 'Chaitanyapuri'), (23, 'Gaddiannaram'), (24, 'Saidabad'), (25, 'Moosarambagh'),
  (26, 'Old Malakpet'), (27, 'Akbarbagh'), (28, 'Azampura'), (29, 'Chawni'), (30, 'Dabeerpura'),
  (31, 'Rein Bazar'), (32, 'Pathergatti'), (33, 'Moghalpura'), (34, 'Talabchanchalam'), (35, 'Gowlipura'),
  (36, 'Lalithabagh'), (37, 'Kurmaguda'), (38, 'I.S. Sadan'), (39, 'Santoshnagar'), (40, 'Riyasathnagar'),
  (41, 'Kanchanbagh'), (42, 'Barkas'), (43, 'Chandrayangutta'), (44, 'Uppuguda'), (45, 'Jangammet'),
  (46, 'Falaknuma'), (47, 'Nawab Sahab Kunta'), (48, 'Shalibanda'), (49, 'Ghansi Bazar'), (50, 'Begum Bazar'),
  (51, 'Goshamahal'), (52, 'Puranapul'), (53, 'Doodbowli'), (54, 'Jahanuma'), (55, 'Ramnastpura'),
  (56, 'Kishanbagh'), (57, 'Suleman Nagar'), (58, 'Shastripuram'), (59, 'Mylardevpally'), (60, 'Rajendranagar'),
  (61, 'Attapur'), (62, 'Ziaguda'), (63, 'Manghalhat'), (64, 'Dattathreya Nagar'), (65, 'Karwan'),
  (66, 'Langar House'), (67, 'Golconda'), (68, 'Tolichowki'), (69, 'Nanalnagar'), (70, 'Mehdipatnam'),
  (71, 'Gudimalkapur'), (72, 'Asif Nagar'), (73, 'Vijayanagar Colony'), (74, 'Ahmed Nagar'), (75, 'Red Hills'),
  (76, 'Mallepally'), (77, 'Jambagh'), (78, 'Gunfoundry'), (79, 'Himayath Nagar'), (80, 'Kachiguda'),
  (81, 'Nallakunta'), (82, 'Golnaka'), (83, 'Amberpet'), (84, 'Bagh Amberpet'), (85, 'Adikmet'),
  (86, 'Musheerabad'), (87, 'Ramnagar'), (88, 'Bholakpur'), (89, 'Gandhinagar'), (90, 'Kavadiguda'),
  (91, 'Khairatabad'), (92, 'Venkateshwara Colony'), (93, 'Banjara Hills'), (94, 'Shaikpet'), (95, 'Jubilee Hills'),
  (96, 'Yousufguda'), (97, 'Somajiguda'), (98, 'Ameerpet'), (99, 'Vengal Rao Nagar'), (100, 'Sanath Nagar'),
  (101, 'Erragadda'), (102, 'Rahmath Nagar'), (103, 'Borabanda'), (104, 'Kondapur'), (105, 'Gachibowli'),
  (106, 'Serilingampally'), (107, 'Madhapur'), (108, 'Miyapur'), (109, 'Hafeezpet'), (110, 'Chandanagar'),
  (111, 'Bharathi Nagar'), (112, 'Ramachandrapuram'), (113, 'Patancheru'), (114, 'KPHB Colony'), (115, 'Balaji Nagar'),
  (116, 'Allapur'), (117, 'Moosapet'), (118, 'Fathenagar'), (119, 'Old Bowenpally'), (120, 'Balanagar'),
  (121, 'Kukatpally'), (122, 'Vivekananda Nagar Colony'), (123, 'Hydernagar'), (124, 'Allwyn Colony'), (125, 'Gajularamaram'),
  (126, 'Jagadgiri Gutta'), (127, 'Rangareddy Nagar'), (128, 'Chintal'), (129, 'Suraram'), (130, 'Subhash Nagar'),
  (131, 'Quthbullapur'), (132, 'Jeedimetla'), (133, 'Macha Bollaram'), (134, 'Alwal'), (135, 'Venkatapuram'),
  (136, 'Neredmet'), (137, 'Vinayak Nagar'), (138, 'Moula Ali'), (139, 'East Anandbagh'), (140, 'Malkajgiri'),
  (141, 'Gautham Nagar'), (142, 'Addagutta'), (143, 'Tarnaka'), (144, 'Mettuguda'), (145, 'Sitaphalmandi'),
  (146, 'Boudha Nagar'), (147, 'Bansilalpet'), (148, 'Ramgopalpet'), (149, 'Begumpet'), (150, 'Monda Market')
ON CONFLICT (ward_no) DO NOTHING;

-- The canonical ward name for a name in any case/spacing, a ward number ('91') or a GeoJSON feature
-- name ('Ward 91 Khairatabad'); anything else comes back trimmed.
CREATE OR REPLACE FUNCTION lokdarpan_ward_name(p_ward text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path FROM CURRENT
AS $$
  SELECT coalesce(
    (SELECT w.name::text FROM ward w
      WHERE w.name_key = lokdarpan_ward_key(p_ward)
         OR w.ward_no::text = coalesce(substring(btrim(p_ward) FROM '^(?:[Ww]ard\s+)?0*(\d{1,3})(?:\s|$)'), '')
      ORDER BY (w.name_key = lokdarpan_ward_key(p_ward)) DESC
      LIMIT 1),
    btrim(p_ward))
$$;

-- Emotion vocabulary (lower case). Input is compared case- and space-insensitively; 'Error' and ''
-- (what the LLM path writes on failure) mean 'unknown'. NULL for a value outside the vocabulary.
CREATE OR REPLACE FUNCTION lokdarpan_emotion(p_emotion text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE lower(btrim(p_emotion))
    WHEN 'positive' THEN 'positive'  WHEN 'negative' THEN 'negative'  WHEN 'neutral' THEN 'neutral'
    WHEN 'mixed' THEN 'mixed'        WHEN 'hopeful' THEN 'hopeful'    WHEN 'pride' THEN 'pride'
    WHEN 'admiration' THEN 'admiration' WHEN 'joy' THEN 'joy'         WHEN 'gratitude' THEN 'gratitude'
    WHEN 'frustration' THEN 'frustration' WHEN 'anger' THEN 'anger'   WHEN 'sadness' THEN 'sadness'
    WHEN 'fear' THEN 'fear'          WHEN 'disgust' THEN 'disgust'    WHEN 'concern' THEN 'concern'
    WHEN 'unknown' THEN 'unknown'    WHEN 'error' THEN 'unknown'      WHEN '' THEN 'unknown'
  END
$$;

-- Sentiment polarity of an emotion: +1 positive family, -1 negative family, 0 neutral/mixed,
-- NULL for unknown, for NULL and for a value outside the vocabulary. Every analytic below counts
-- through this function. Its body repeats the vocabulary instead of calling lokdarpan_emotion():
-- PostgreSQL 17+ runs REFRESH MATERIALIZED VIEW and index builds with search_path = pg_catalog, so
-- functions used there must not call unqualified functions of their own schema.
CREATE OR REPLACE FUNCTION lokdarpan_emotion_polarity(p_emotion text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE lower(btrim(p_emotion))
    WHEN 'positive' THEN 1 WHEN 'hopeful' THEN 1 WHEN 'pride' THEN 1 WHEN 'admiration' THEN 1
    WHEN 'joy' THEN 1 WHEN 'gratitude' THEN 1
    WHEN 'negative' THEN -1 WHEN 'frustration' THEN -1 WHEN 'anger' THEN -1 WHEN 'sadness' THEN -1
    WHEN 'fear' THEN -1 WHEN 'disgust' THEN -1 WHEN 'concern' THEN -1
    WHEN 'neutral' THEN 0 WHEN 'mixed' THEN 0
  END::smallint
$$;

-- Party vocabulary (upper-case codes). Input is compared ignoring case, spaces and punctuation;
-- TRS is BRS (renamed in 2022), 'Independent' is IND, 'Congress' is INC, 'Others' is OTHER.
-- NULL for a value outside the vocabulary.
CREATE OR REPLACE FUNCTION lokdarpan_party(p_party text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE upper(regexp_replace(p_party, '[^A-Za-z0-9]+', '', 'g'))
    WHEN 'BJP' THEN 'BJP'
    WHEN 'INC' THEN 'INC' WHEN 'CONGRESS' THEN 'INC'
    WHEN 'BRS' THEN 'BRS' WHEN 'TRS' THEN 'BRS'
    WHEN 'AIMIM' THEN 'AIMIM' WHEN 'MIM' THEN 'AIMIM'
    WHEN 'TDP' THEN 'TDP'
    WHEN 'YSRCP' THEN 'YSRCP' WHEN 'YSRC' THEN 'YSRCP'
    WHEN 'JSP' THEN 'JSP' WHEN 'JANASENA' THEN 'JSP'
    WHEN 'CPI' THEN 'CPI'
    WHEN 'CPM' THEN 'CPM' WHEN 'CPIM' THEN 'CPM'
    WHEN 'BSP' THEN 'BSP'
    WHEN 'AAP' THEN 'AAP'
    WHEN 'PRAJARAJYAM' THEN 'PRAJA_RAJYAM' WHEN 'PRP' THEN 'PRAJA_RAJYAM'
    WHEN 'NOTA' THEN 'NOTA'
    WHEN 'IND' THEN 'IND' WHEN 'INDEPENDENT' THEN 'IND'
    WHEN 'OTHER' THEN 'OTHER' WHEN 'OTHERS' THEN 'OTHER'
  END
$$;

-- The full-text document of a post. 'simple' configuration: posts mix Telugu, Hindi and English, and
-- English stemming mangles the other two. Weights: text A, ward and party B, emotion C.
CREATE OR REPLACE FUNCTION post_search_document(p_text text, p_city text, p_emotion text, p_party text)
RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT setweight(to_tsvector('simple'::regconfig, coalesce(p_text, '')), 'A')
      || setweight(to_tsvector('simple'::regconfig, coalesce(p_city, '')), 'B')
      || setweight(to_tsvector('simple'::regconfig, coalesce(p_party, '')), 'B')
      || setweight(to_tsvector('simple'::regconfig, coalesce(p_emotion, '')), 'C')
$$;

-- lokdarpan:step no-transaction
-- Ward queries (count, authors, emotion and party mix over a time window) as index-only scans.
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_post_city_created ON post (city, created_at)
  INCLUDE (author_id, emotion, party) WHERE city IS NOT NULL;

-- lokdarpan:step no-transaction
-- An author's posts, and the author foreign key's lookups.
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_post_author_city ON post (author_id, city, created_at)
  WHERE author_id IS NOT NULL;

-- lokdarpan:step no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_post_search_vector ON post
  USING gin (post_search_document(text, city, emotion, party));

-- lokdarpan:step transaction
-- NOT VALID: enforced for every new or updated row from now on, existing rows checked below.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'post'::regclass AND conname = 'chk_post_emotion') THEN
    ALTER TABLE post ADD CONSTRAINT chk_post_emotion
      CHECK (emotion IS NULL OR lokdarpan_emotion(emotion) IS NOT NULL) NOT VALID;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'post'::regclass AND conname = 'chk_post_party') THEN
    ALTER TABLE post ADD CONSTRAINT chk_post_party
      CHECK (party IS NULL OR lokdarpan_party(party) IS NOT NULL) NOT VALID;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'ward_profile'::regclass AND conname = 'chk_ward_turnout') THEN
    ALTER TABLE ward_profile ADD CONSTRAINT chk_ward_turnout
      CHECK (turnout_pct IS NULL OR (turnout_pct >= 0 AND turnout_pct <= 100)) NOT VALID;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'result_ward_agg'::regclass AND conname = 'chk_result_ward_agg_pct') THEN
    ALTER TABLE result_ward_agg ADD CONSTRAINT chk_result_ward_agg_pct
      CHECK ((vote_share IS NULL OR (vote_share >= 0 AND vote_share <= 100))
         AND (turnout_pct IS NULL OR (turnout_pct >= 0 AND turnout_pct <= 100))) NOT VALID;
  END IF;
END
$$;

-- lokdarpan:step transaction
-- VALIDATE scans under SHARE UPDATE EXCLUSIVE (writers continue). Legacy rows outside the vocabulary
-- (an adopted database) are kept: the constraint then stays NOT VALID, still enforced for new rows,
-- and the warning says how to find the rows (docs/schema.md).
DO $$
BEGIN
  ALTER TABLE post VALIDATE CONSTRAINT chk_post_emotion;
EXCEPTION WHEN check_violation THEN
  RAISE WARNING 'chk_post_emotion stays NOT VALID: existing rows of post violate it; they are kept, new rows are checked. Fix them, then run: ALTER TABLE post VALIDATE CONSTRAINT chk_post_emotion';
END
$$;

-- lokdarpan:step transaction
-- VALIDATE scans under SHARE UPDATE EXCLUSIVE (writers continue). Legacy rows outside the vocabulary
-- (an adopted database) are kept: the constraint then stays NOT VALID, still enforced for new rows,
-- and the warning says how to find the rows (docs/schema.md).
DO $$
BEGIN
  ALTER TABLE post VALIDATE CONSTRAINT chk_post_party;
EXCEPTION WHEN check_violation THEN
  RAISE WARNING 'chk_post_party stays NOT VALID: existing rows of post violate it; they are kept, new rows are checked. Fix them, then run: ALTER TABLE post VALIDATE CONSTRAINT chk_post_party';
END
$$;

-- lokdarpan:step transaction
-- VALIDATE scans under SHARE UPDATE EXCLUSIVE (writers continue). Legacy rows outside the vocabulary
-- (an adopted database) are kept: the constraint then stays NOT VALID, still enforced for new rows,
-- and the warning says how to find the rows (docs/schema.md).
DO $$
BEGIN
  ALTER TABLE ward_profile VALIDATE CONSTRAINT chk_ward_turnout;
EXCEPTION WHEN check_violation THEN
  RAISE WARNING 'chk_ward_turnout stays NOT VALID: existing rows of ward_profile violate it; they are kept, new rows are checked. Fix them, then run: ALTER TABLE ward_profile VALIDATE CONSTRAINT chk_ward_turnout';
END
$$;

-- lokdarpan:step transaction
-- VALIDATE scans under SHARE UPDATE EXCLUSIVE (writers continue). Legacy rows outside the vocabulary
-- (an adopted database) are kept: the constraint then stays NOT VALID, still enforced for new rows,
-- and the warning says how to find the rows (docs/schema.md).
DO $$
BEGIN
  ALTER TABLE result_ward_agg VALIDATE CONSTRAINT chk_result_ward_agg_pct;
EXCEPTION WHEN check_violation THEN
  RAISE WARNING 'chk_result_ward_agg_pct stays NOT VALID: existing rows of result_ward_agg violate it; they are kept, new rows are checked. Fix them, then run: ALTER TABLE result_ward_agg VALIDATE CONSTRAINT chk_result_ward_agg_pct';
END
$$;

-- lokdarpan:step transaction
-- One row per ward (canonical name when post.city names one of the 150 wards). Percentages are of
-- all the ward's posts; positive/negative/neutral are emotion polarities (+1/-1/0). Electoral columns
-- come from ward_profile, matched by canonical name or ward number. Windows are relative to the
-- refresh time (`last_updated`).
CREATE MATERIALIZED VIEW IF NOT EXISTS ward_analytics_summary AS
WITH p AS (
  SELECT coalesce(w.name::text, btrim(po.city)) AS ward_name,
         w.ward_no,
         po.author_id,
         lokdarpan_party(po.party) AS party,
         lokdarpan_emotion_polarity(po.emotion) AS polarity,
         po.created_at
  FROM post po
  LEFT JOIN ward w ON w.name_key = lokdarpan_ward_key(po.city)
  WHERE po.city IS NOT NULL AND btrim(po.city) <> ''
),
post_stats AS (
  SELECT p.ward_name,
         min(p.ward_no) AS ward_no,
         count(*) AS total_posts,
         count(DISTINCT p.author_id) AS unique_authors,
         count(DISTINCT p.party) AS active_parties,
         count(*) FILTER (WHERE p.created_at >= now() - interval '7 days') AS posts_last_7d,
         count(*) FILTER (WHERE p.created_at >= now() - interval '30 days') AS posts_last_30d,
         max(p.created_at) AS latest_post_date,
         round(100.0 * count(*) FILTER (WHERE p.polarity = 1) / count(*), 2) AS positive_pct,
         round(100.0 * count(*) FILTER (WHERE p.polarity = -1) / count(*), 2) AS negative_pct,
         round(100.0 * count(*) FILTER (WHERE p.polarity = 0) / count(*), 2) AS neutral_pct,
         mode() WITHIN GROUP (ORDER BY p.party) FILTER (WHERE p.party IS NOT NULL) AS dominant_party,
         count(*) FILTER (WHERE p.party = 'BJP') AS bjp_mentions,
         count(*) FILTER (WHERE p.party = 'INC') AS inc_mentions,
         count(*) FILTER (WHERE p.party = 'BRS') AS brs_mentions,
         count(*) FILTER (WHERE p.party = 'AIMIM') AS aimim_mentions
  FROM p
  GROUP BY p.ward_name
)
SELECT s.ward_name,
       s.ward_no,
       s.total_posts, s.unique_authors, s.active_parties,
       s.posts_last_7d, s.posts_last_30d, s.latest_post_date,
       s.positive_pct, s.negative_pct, s.neutral_pct,
       s.dominant_party,
       s.bjp_mentions, s.inc_mentions, s.brs_mentions, s.aimim_mentions,
       wp.electors, wp.votes_cast, wp.turnout_pct, wp.last_winner_party, wp.last_winner_year,
       CASE WHEN s.posts_last_30d > 0 THEN round(100.0 * s.posts_last_7d / s.posts_last_30d, 2) END
         AS activity_trend_pct,
       CASE WHEN s.posts_last_7d > 0.5 * s.posts_last_30d THEN 'high_activity'
            WHEN s.posts_last_7d > 0.2 * s.posts_last_30d THEN 'moderate_activity'
            ELSE 'low_activity' END AS activity_level,
       now() AS last_updated
FROM post_stats s
LEFT JOIN LATERAL (
  SELECT x.electors, x.votes_cast, x.turnout_pct, x.last_winner_party, x.last_winner_year
  FROM ward_profile x
  WHERE lokdarpan_ward_key(x.ward_id) = lokdarpan_ward_key(s.ward_name)
     OR (s.ward_no IS NOT NULL AND btrim(x.ward_id) = s.ward_no::text)
  ORDER BY x.updated_at DESC, x.id DESC
  LIMIT 1
) wp ON true;

CREATE UNIQUE INDEX IF NOT EXISTS ix_ward_summary_ward_name ON ward_analytics_summary (ward_name);

-- One row per (calendar day in Asia/Kolkata, ward) over the last 90 days. posts_7d_avg is the mean
-- daily count over the 7 CALENDAR days ending that day (days without posts count as 0).
CREATE MATERIALIZED VIEW IF NOT EXISTS daily_ward_trends AS
WITH d AS (
  SELECT (po.created_at AT TIME ZONE 'Asia/Kolkata')::date AS trend_date,
         coalesce(w.name::text, btrim(po.city)) AS ward_name,
         count(*) AS daily_posts,
         count(DISTINCT po.author_id) AS daily_authors,
         count(*) FILTER (WHERE lokdarpan_emotion_polarity(po.emotion) = 1) AS positive_posts,
         count(*) FILTER (WHERE lokdarpan_emotion_polarity(po.emotion) = -1) AS negative_posts,
         count(*) FILTER (WHERE lokdarpan_emotion_polarity(po.emotion) = 0) AS neutral_posts,
         count(*) FILTER (WHERE lokdarpan_party(po.party) = 'BJP') AS bjp_mentions,
         count(*) FILTER (WHERE lokdarpan_party(po.party) = 'INC') AS inc_mentions,
         count(*) FILTER (WHERE lokdarpan_party(po.party) = 'BRS') AS brs_mentions,
         count(*) FILTER (WHERE lokdarpan_party(po.party) = 'AIMIM') AS aimim_mentions,
         max(po.created_at) AS latest_post_time
  FROM post po
  LEFT JOIN ward w ON w.name_key = lokdarpan_ward_key(po.city)
  WHERE po.city IS NOT NULL AND btrim(po.city) <> ''
    AND po.created_at >= (date_trunc('day', now() AT TIME ZONE 'Asia/Kolkata') - interval '89 days')
                         AT TIME ZONE 'Asia/Kolkata'
  GROUP BY 1, 2
)
SELECT d.trend_date, d.ward_name, d.daily_posts, d.daily_authors,
       d.positive_posts, d.negative_posts, d.neutral_posts,
       d.bjp_mentions, d.inc_mentions, d.brs_mentions, d.aimim_mentions,
       round(sum(d.daily_posts) OVER (PARTITION BY d.ward_name ORDER BY d.trend_date
                                      RANGE BETWEEN interval '6 days' PRECEDING AND CURRENT ROW) / 7.0, 2)
         AS posts_7d_avg,
       d.latest_post_time
FROM d;

CREATE UNIQUE INDEX IF NOT EXISTS ix_daily_trends_date_ward ON daily_ward_trends (trend_date, ward_name);
CREATE INDEX IF NOT EXISTS ix_daily_trends_ward_date ON daily_ward_trends (ward_name, trend_date);

-- Party competition in a ward over the last p_days (p_days >= 1), one row per normalised party:
--   mention_count  posts naming the party;
--   mention_share  its percentage of all party mentions in the window (2 dp);
--   avg_sentiment  mean polarity (+1/-1/0, unknown emotion = 0), 3 dp;
--   recent_trend   (mentions in the last 7 days / 7) / (mentions in the older p_days - 7 days /
--                  (p_days - 7)) - 1, 3 dp; NULL when there is no older baseline (p_days <= 7, or no
--                  older mention).
-- The ward may be given by name (any case/spacing) or number.
CREATE OR REPLACE FUNCTION get_ward_competitive_analysis(p_ward_name text, p_days integer DEFAULT 30)
RETURNS TABLE (party text, mention_count bigint, mention_share numeric, avg_sentiment numeric, recent_trend numeric)
LANGUAGE plpgsql STABLE
SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
DECLARE
  v_ward text := lokdarpan_ward_name(p_ward_name);
  v_now  timestamptz := now();
BEGIN
  IF p_days IS NULL OR p_days < 1 THEN
    RAISE EXCEPTION 'p_days must be at least 1, got %', p_days USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN QUERY
  WITH m AS (
    SELECT lokdarpan_party(po.party) AS party_code,
           coalesce(lokdarpan_emotion_polarity(po.emotion), 0) AS polarity,
           po.created_at >= v_now - interval '7 days' AS is_recent
    FROM post po
    WHERE po.city = v_ward
      AND po.party IS NOT NULL
      AND po.created_at >= v_now - make_interval(days => p_days)
  ),
  g AS (
    SELECT m.party_code,
           count(*) AS n,
           count(*) FILTER (WHERE m.is_recent) AS n_recent,
           avg(m.polarity) AS s
    FROM m
    WHERE m.party_code IS NOT NULL
    GROUP BY m.party_code
  )
  SELECT g.party_code,
         g.n,
         round(100.0 * g.n / sum(g.n) OVER (), 2),
         round(g.s, 3),
         CASE WHEN p_days > 7 AND g.n > g.n_recent
              THEN round((g.n_recent / 7.0) / ((g.n - g.n_recent)::numeric / (p_days - 7)) - 1, 3)
         END
  FROM g
  ORDER BY g.n DESC, g.party_code;
END
$$;

-- Daily sentiment of a ward over the last p_days (days in Asia/Kolkata), for posts with an emotion:
-- polarity counts, total (including unknown emotions) and sentiment_score = (pos - neg) / total * 100.
CREATE OR REPLACE FUNCTION get_ward_sentiment_timeline(p_ward_name text, p_days integer DEFAULT 30)
RETURNS TABLE (date_bucket date, positive_count bigint, negative_count bigint, neutral_count bigint,
               total_posts bigint, sentiment_score numeric)
LANGUAGE plpgsql STABLE
SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
DECLARE
  v_ward text := lokdarpan_ward_name(p_ward_name);
BEGIN
  IF p_days IS NULL OR p_days < 1 THEN
    RAISE EXCEPTION 'p_days must be at least 1, got %', p_days USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN QUERY
  SELECT (po.created_at AT TIME ZONE 'Asia/Kolkata')::date AS bucket,
         count(*) FILTER (WHERE lokdarpan_emotion_polarity(po.emotion) = 1),
         count(*) FILTER (WHERE lokdarpan_emotion_polarity(po.emotion) = -1),
         count(*) FILTER (WHERE lokdarpan_emotion_polarity(po.emotion) = 0),
         count(*),
         round(100.0 * (count(*) FILTER (WHERE lokdarpan_emotion_polarity(po.emotion) = 1)
                        - count(*) FILTER (WHERE lokdarpan_emotion_polarity(po.emotion) = -1)) / count(*), 2)
  FROM post po
  WHERE po.city = v_ward
    AND po.emotion IS NOT NULL
    AND po.created_at >= now() - make_interval(days => p_days)
  GROUP BY 1
  ORDER BY 1 DESC;
END
$$;

-- Full-text search over posts (websearch syntax: "quoted phrases", -exclusions, OR), best first.
-- Ranking recomputes each candidate's document (the index stores no tsvector), so a common term
-- would rank tens of thousands of rows: the best p_limit are chosen among the p_candidates most
-- recent matches (default 1000), which keeps a search over millions of posts in tens of ms.
CREATE OR REPLACE FUNCTION search_posts(p_query text, p_ward text DEFAULT NULL, p_limit integer DEFAULT 20,
                                        p_candidates integer DEFAULT 1000)
RETURNS TABLE (id integer, ward_name varchar, text text, created_at timestamptz, rank real)
LANGUAGE sql STABLE
AS $$
  WITH q AS (SELECT websearch_to_tsquery('simple'::regconfig, p_query) AS query),
  candidates AS (
    SELECT p.id
    FROM post p, q
    WHERE post_search_document(p.text, p.city, p.emotion, p.party) @@ q.query
      AND (p_ward IS NULL OR p.city = lokdarpan_ward_name(p_ward))
    ORDER BY p.id DESC
    LIMIT p_candidates
  )
  SELECT p.id, p.city, p.text, p.created_at,
         ts_rank(post_search_document(p.text, p.city, p.emotion, p.party), q.query) AS rank
  FROM candidates c JOIN post p ON p.id = c.id, q
  ORDER BY rank DESC, p.id DESC
  LIMIT p_limit
$$;

-- Refreshes both views without blocking their readers, and records the run in ai_system_metrics
-- (metric 'materialized_view_refresh', value = milliseconds). Autovacuum keeps the base tables'
-- statistics; the old hourly ANALYZE of post is not repeated.
CREATE OR REPLACE FUNCTION refresh_ward_analytics() RETURNS void
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  t0 timestamptz := clock_timestamp();
BEGIN
  REFRESH MATERIALIZED VIEW CONCURRENTLY ward_analytics_summary;
  REFRESH MATERIALIZED VIEW CONCURRENTLY daily_ward_trends;
  INSERT INTO ai_system_metrics (metric_name, metric_category, metric_scope, scope_identifier, metric_value,
                                 metric_unit, period_start, period_end, aggregation_type, sample_count)
  VALUES ('materialized_view_refresh', 'maintenance', 'system', 'ward_analytics',
          extract(epoch FROM clock_timestamp() - t0) * 1000, 'ms', t0, clock_timestamp(), 'sum', 2);
END
$$;
