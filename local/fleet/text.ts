// Deterministic "answer" text for the simulated inference server: readable English sentences that reuse
// the prompt's key words. One token = one word with its leading space (or a paragraph break before it).
// A prompt that asks for code, a table, a list or markdown gets a markdown document instead
// (markdown-text.ts), so that the web client's rich rendering can be seen and tested locally.

import { markdownAnswer, markdownTokens, requestedFeatures } from './markdown-text';

const STOPWORDS = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below ' +
    'between both but by can could did do does doing down during each few for from further had has have ' +
    'having he her here hers herself him himself his how i if in into is it its itself just let me more ' +
    'most my myself no nor not now of off on once only or other our ours ourselves out over own please ' +
    'same she should so some such than that the their theirs them themselves then there these they this ' +
    'those through to too under until up very was we were what when where which while who whom why will ' +
    'with would you your yours yourself yourselves tell explain give show make want need know like also ' +
    'get got use using used one two may might must shall yes okay ok hi hello thanks thank'
  ).split(' '),
);

const FALLBACK_TOPICS = ['the question', 'this topic', 'the details', 'the context', 'the main idea'];

const TEMPLATES: readonly string[] = [
  '{A} is easier to reason about once you separate it from {b}.',
  'A useful way to think about {a} is to start with what you already know.',
  'Most of the trouble with {a} comes from {b}, not from {a} itself.',
  'If you look closely at {a}, a few patterns stand out.',
  'In practice, {a} and {b} usually go together.',
  'That is why people who work with {a} often check {b} first.',
  'There is no single answer, but {a} is a good place to begin.',
  'Consider a simple example that involves {a} and {b}.',
  'Over time, the link between {a} and {b} becomes clearer.',
  'It also helps to ask how {a} changes when {b} changes.',
  'Keep in mind that {a} can look quite different depending on the context.',
  'To sum up, {a} rewards careful attention to {b}.',
  'Another point is that {b} rarely works well without {a}.',
  'Small changes to {a} can have a large effect on {b}.',
  '{A} is often misunderstood, so it is worth being precise about it.',
  'One common mistake is to treat {a} as if it were the same as {b}.',
  'When in doubt, write down what you expect from {a} and compare it with {b}.',
  'The short version is that {a} depends on {b} more than most people expect.',
];

const OPENERS: readonly string[] = [
  'Also,',
  'Still,',
  'Meanwhile,',
  'In addition,',
  'Of course,',
  'Finally,',
];

/** Small, fast, seedable PRNG (mulberry32). */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a hash of a string, for seeding. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The prompt's key words: lower-cased, stop words removed, first occurrence order, at most `limit`. */
export function keywords(prompt: string, limit = 8): string[] {
  const found: string[] = [];
  for (const match of prompt.matchAll(/[\p{L}][\p{L}\p{N}'-]*/gu)) {
    const word = match[0].toLowerCase().replace(/['-]+$/, '');
    if (word.length < 3 || STOPWORDS.has(word) || found.includes(word)) continue;
    found.push(word);
    if (found.length >= limit) break;
  }
  return found;
}

/** Rough token count of a text (words and punctuation marks), like a tokenizer's order of magnitude. */
export function countTokens(text: string): number {
  return text.match(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu)?.length ?? 0;
}

function pick<T>(items: readonly T[], random: () => number): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick() from an empty list');
  return item;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Returns exactly `tokens` tokens of English derived from `prompt`. The first token has no leading space;
 * the others start with a space, or with a blank line at a paragraph break. Same (prompt, seed) → same text.
 * The last token ends with a full stop.
 *
 * A prompt asking for markdown (requestedFeatures: "code", "table", "list", a language name, "markdown")
 * gets a whole markdown document instead, as many tokens as it has (a table or a code fence is never cut
 * by `tokens`; max_tokens still cuts it). Its tokens keep their newlines and indentation.
 */
export function generateAnswerTokens(prompt: string, tokens: number, seed = 1): string[] {
  const count = Math.max(0, Math.floor(tokens));
  const random = createRandom(hashString(prompt) ^ Math.imul(seed >>> 0, 0x9e3779b1));
  const topics = keywords(prompt);
  const features = requestedFeatures(prompt);
  if (features.size > 0 && count > 0) return markdownTokens(markdownAnswer(prompt, features, topics, random));
  const pool = topics.length > 0 ? topics : FALLBACK_TOPICS;
  const out: string[] = [];
  let sentencesInParagraph = 0;
  let paragraphLength = 3 + Math.floor(random() * 3);
  let previousTemplate = -1;

  while (out.length < count) {
    let index = Math.floor(random() * TEMPLATES.length);
    if (index === previousTemplate) index = (index + 1) % TEMPLATES.length;
    previousTemplate = index;
    const template = TEMPLATES[index] ?? '{A}.';
    const a = pick(pool, random);
    const others = pool.filter((word) => word !== a);
    const b = others.length > 0 ? pick(others, random) : pick(FALLBACK_TOPICS, random);
    let sentence = template.replaceAll('{A}', capitalize(a)).replaceAll('{a}', a).replaceAll('{b}', b);
    if (out.length > 0 && sentencesInParagraph > 0 && random() < 0.2) {
      sentence = `${pick(OPENERS, random)} ${sentence.charAt(0).toLowerCase()}${sentence.slice(1)}`;
    }
    const paragraphBreak = out.length > 0 && sentencesInParagraph >= paragraphLength;
    if (paragraphBreak) {
      sentencesInParagraph = 0;
      paragraphLength = 3 + Math.floor(random() * 3);
    }
    const words = sentence.split(' ');
    words.forEach((word, i) => {
      if (out.length >= count) return;
      if (out.length === 0) out.push(word);
      else if (i === 0 && paragraphBreak) out.push(`\n\n${word}`);
      else out.push(` ${word}`);
    });
    sentencesInParagraph++;
  }

  const lastIndex = out.length - 1;
  const last = out[lastIndex];
  if (last !== undefined && !/[.!?]$/.test(last)) out[lastIndex] = `${last.replace(/[,;:]$/, '')}.`;
  return out;
}
