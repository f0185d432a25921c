// What the LokDarpan app really writes, used by the generator: capitalised emotions (the LLM path and
// the seeders), party names including the pre-2022 'TRS', issues and text fragments in English,
// Telugu and Hindi. Migration 005 normalises these (docs/schema.md).
import type { Prng } from './prng.ts';

/** Emotions as the app writes them, with their generator weights. */
export const APP_EMOTIONS: ReadonlyArray<readonly [string, number]> = [
  ['Positive', 18], ['Negative', 16], ['Neutral', 14], ['Hopeful', 12], ['Frustration', 11],
  ['Anger', 9], ['Sadness', 5], ['Pride', 4], ['Admiration', 3], ['Unknown', 2], ['Error', 0.5],
];

/** Polarity of an app emotion, as lokdarpan_emotion_polarity() computes it. */
export function emotionPolarity(emotion: string | null): 1 | -1 | 0 | null {
  switch (emotion?.trim().toLowerCase()) {
    case 'positive': case 'hopeful': case 'pride': case 'admiration': case 'joy': case 'gratitude':
      return 1;
    case 'negative': case 'frustration': case 'anger': case 'sadness': case 'fear': case 'disgust': case 'concern':
      return -1;
    case 'neutral': case 'mixed':
      return 0;
    default:
      return null;
  }
}

/** Parties with their share of mentions (null = a post naming no party). */
export const PARTY_WEIGHTS: ReadonlyArray<readonly [string | null, number]> = [
  ['BJP', 27], ['INC', 23], ['BRS', 24], ['AIMIM', 10], ['TDP', 1.5], ['CPI', 0.7], ['CPM', 0.5],
  ['Independent', 1.5], ['JSP', 0.4], ['NOTA', 0.2], [null, 11],
];

/** TRS became BRS in October 2022: posts before that name it TRS, as the app stored them. */
export const BRS_RENAMED_AT = Date.UTC(2022, 9, 5);

export const ISSUES: readonly string[] = [
  'drainage', 'water supply', 'roads', 'potholes', 'street lights', 'garbage collection', 'flooding',
  'traffic', 'metro rail', 'education', 'healthcare', 'development', 'infrastructure', 'housing',
  '2BHK houses', 'encroachments', 'power cuts', 'mosquito menace', 'lake pollution', 'pension delays',
];

const TEMPLATES: readonly string[] = [
  '{party} corporator in {ward} promises action on {issue}; residents want a deadline.',
  'Residents of {ward} complain about {issue} again, blame the {party} leadership.',
  '{party} workers held a padayatra in {ward} over {issue} this morning.',
  'New {issue} works announced for {ward}; {party} claims credit.',
  '{ward} lo {issue} samasya inka theeraledu, {party} nayakulu spandinchaledu.',
  '{ward} mein {issue} ki samasya par {party} ne dharna diya.',
  'Local youth in {ward} praise the {issue} drive backed by {party}.',
  'Opinion: why {issue} decides the next vote in {ward} ({party} vs the rest).',
  '{ward}: {issue} complaints rise, GHMC officials inspect, {party} demands accountability.',
  'Women self-help groups in {ward} meet {party} leaders on {issue}.',
];

const TAILS: readonly string[] = [
  '', '', '', ' #Hyderabad', ' #GHMC', ' #Telangana', ' — via local news', ' (video)', ' 🙏', ' !!',
];

export function postText(rng: Prng, ward: string, party: string | null): string {
  const template = rng.pick(TEMPLATES);
  return template
    .replace('{ward}', ward)
    .replace('{issue}', rng.pick(ISSUES))
    .replace('{party}', party ?? rng.pick(['the ruling party', 'the opposition', 'GHMC', 'the MLA'])) + rng.pick(TAILS);
}

export const FIRST_NAMES: readonly string[] = [
  'Ravi', 'Lakshmi', 'Srinivas', 'Anjali', 'Mohammed', 'Ayesha', 'Venkat', 'Padma', 'Kiran', 'Sana',
  'Rajesh', 'Swathi', 'Imran', 'Kavitha', 'Suresh', 'Farhan', 'Deepika', 'Naresh', 'Zoya', 'Prakash',
];
export const LAST_NAMES: readonly string[] = [
  'Reddy', 'Rao', 'Goud', 'Naidu', 'Khan', 'Sharma', 'Yadav', 'Chary', 'Siddiqui', 'Varma',
  'Patel', 'Kumar', 'Hussain', 'Mudiraj', 'Shetty', 'Ali', 'Prasad', 'Qureshi', 'Babu', 'Devi',
];
export const PUBLICATIONS: readonly string[] = [
  'Deccan Chronicle', 'The Hindu', 'Eenadu', 'Sakshi', 'Namasthe Telangana', 'Siasat', 'Telangana Today',
  'Andhra Jyothi', 'Times of India Hyderabad', 'The Hans India',
];
