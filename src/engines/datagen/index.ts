// Public surface of the synthetic data generator.
export { generateLokdarpanData } from './generate.ts';
export type { Counts, GenerateOptions } from './generate.ts';
export { knownDataset, loadKnownDataset } from './known.ts';
export type { KnownDataset, KnownPost, KnownWardProfile } from './known.ts';
export { GHMC_WARDS, findWard, wardKey } from './wards.ts';
export type { Ward } from './wards.ts';
export { Prng, WeightedPicker } from './prng.ts';
export { copyRows, copyField, copyLine, vectorLiteral } from './copy.ts';
export type { CopyValue } from './copy.ts';
export { APP_EMOTIONS, PARTY_WEIGHTS, emotionPolarity } from './vocabulary.ts';
