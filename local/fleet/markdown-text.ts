// Deterministic markdown answers for the simulated inference server, for prompts that ask for code, a
// table, a list or markdown itself: the web client's rich rendering can then be seen and tested locally.
// Same (prompt, seed) → same document. Prose prompts never come here (text.ts decides).

export type MarkdownFeature = 'code' | 'table' | 'list' | 'markdown';

/** Languages the simulated answers write code in; the first one a prompt names wins, in prompt order. */
const LANGUAGES = ['typescript', 'python', 'bash', 'sql', 'json'] as const;
type Language = (typeof LANGUAGES)[number];

const LANGUAGE_WORDS: Readonly<Record<string, Language>> = {
  typescript: 'typescript',
  ts: 'typescript',
  javascript: 'typescript',
  js: 'typescript',
  python: 'python',
  py: 'python',
  bash: 'bash',
  shell: 'bash',
  sh: 'bash',
  sql: 'sql',
  json: 'json',
};

/** Words that ask for a format, not a subject: never a topic of the answer. */
const FORMAT_WORDS = new Set([
  ...Object.keys(LANGUAGE_WORDS),
  ...'markdown code snippet script program table tables tabular compare comparison list checklist steps bullets todo tasks write show example examples'.split(
    ' ',
  ),
]);

/** The markdown a prompt asks for, or none (plain prose). */
export function requestedFeatures(prompt: string): Set<MarkdownFeature> {
  const words = new Set(prompt.toLowerCase().match(/[a-z]+/g) ?? []);
  const has = (...candidates: string[]) => candidates.some((word) => words.has(word));
  const features = new Set<MarkdownFeature>();
  if (has('markdown')) features.add('markdown').add('code').add('table').add('list');
  if (has('code', 'snippet', 'script', 'program') || languagesIn(prompt).length > 0) {
    features.add('code');
  }
  if (has('table', 'tables', 'tabular', 'compare', 'comparison')) features.add('table');
  if (has('list', 'checklist', 'steps', 'bullets', 'todo', 'tasks')) features.add('list');
  return features;
}

function languagesIn(prompt: string): Language[] {
  const found: Language[] = [];
  for (const word of prompt.toLowerCase().match(/[a-z]+/g) ?? []) {
    const language = LANGUAGE_WORDS[word];
    if (language && !found.includes(language)) found.push(language);
  }
  return found;
}

/** A name usable as an identifier in every language above. */
function identifier(word: string): string {
  const clean = word.replace(/[^a-z0-9]+/gi, '_').replace(/^_+|_+$/g, '') || 'item';
  return /^\d/.test(clean) ? `n_${clean}` : clean;
}

function camel(word: string): string {
  return identifier(word)
    .split('_')
    .map((part, i) => (i === 0 ? part : part.charAt(0).toUpperCase() + part.slice(1)))
    .join('');
}

function codeBlock(language: Language, topic: string, other: string): string {
  const id = identifier(topic);
  const fn = camel(`count_${topic}`);
  const bodies: Record<Language, string> = {
    typescript: [
      `/** Counts how often each ${topic} appears, keyed by ${other}. */`,
      `export function ${fn}(items: readonly string[]): Map<string, number> {`,
      '  const counts = new Map<string, number>();',
      '  for (const item of items) {',
      '    counts.set(item, (counts.get(item) ?? 0) + 1);',
      '  }',
      '  return counts;',
      '}',
    ].join('\n'),
    python: [
      'from collections import Counter',
      '',
      '',
      `def count_${id}(items: list[str]) -> dict[str, int]:`,
      `    """Counts how often each ${topic} appears, keyed by ${other}."""`,
      '    counts = Counter(items)',
      '    return dict(counts.most_common())',
    ].join('\n'),
    bash: [
      '#!/usr/bin/env bash',
      'set -euo pipefail',
      `# Counts how often each ${topic} appears in a file, most frequent first.`,
      `sort "\${1:-${id}.txt}" | uniq -c | sort -rn | head -n 10`,
    ].join('\n'),
    sql: [
      `-- How often each ${topic} appears, by ${other}.`,
      `SELECT ${identifier(other)}, COUNT(*) AS ${id}_count`,
      `FROM ${id}_events`,
      `WHERE created_at >= CURRENT_DATE - INTERVAL '7 days'`,
      `GROUP BY ${identifier(other)}`,
      `ORDER BY ${id}_count DESC;`,
    ].join('\n'),
    json: JSON.stringify({ topic, related: other, count: 3, tags: [id, identifier(other)] }, null, 2),
  };
  return `\`\`\`${language}\n${bodies[language]}\n\`\`\``;
}

function table(topics: readonly string[], random: () => number): string {
  const options = [...topics.slice(0, 4), 'a managed service', 'doing it by hand'].slice(
    0,
    Math.max(3, Math.min(4, topics.length)),
  );
  const rows = options.map((topic, i) => {
    const cost = ['Low', 'Medium', 'High'][Math.floor(random() * 3)] ?? 'Low';
    return `| ${topic} | ${cost} | ${1 + i + Math.floor(random() * 5)} days | ${random() < 0.5 ? 'Yes' : 'No'} |`;
  });
  return ['| Option | Effort | Time | Recommended |', '| :--- | :---: | ---: | :---: |', ...rows].join('\n');
}

function list(topics: readonly string[]): string {
  const [a = 'the goal', b = 'the details', c = 'the result'] = topics;
  return [
    `1. Start with **${a}**`,
    `   - write down what ${a} must do`,
    `   - note what ${b} depends on`,
    `2. Work through *${b}*`,
    `   - check the edge cases of ${b}`,
    `3. Review ${c}`,
    '',
    `- [x] Outline ${a}`,
    `- [ ] Test ${b}`,
    `- [ ] ~~Guess~~ measure ${c}`,
  ].join('\n');
}

/**
 * A markdown document for `features`, about `topics` (the prompt's key words). Ends with a full stop.
 */
export function markdownAnswer(
  prompt: string,
  features: ReadonlySet<MarkdownFeature>,
  keywords: readonly string[],
  random: () => number,
): string {
  const subjects = keywords.filter((word) => !FORMAT_WORDS.has(word));
  const topics = subjects.length > 0 ? subjects : ['the topic', 'the details'];
  const [a = 'the topic', b = 'the details'] = topics;
  const title = a.charAt(0).toUpperCase() + a.slice(1);
  const intros = [
    `Here is a short overview of **${a}** and how it relates to ${b}.`,
    `In short: **${a}** is easiest to get right once ${b} is clear.`,
    `A quick guide to **${a}**, with ${b} in mind.`,
  ];
  const blocks: string[] = [`## ${title}`, intros[Math.floor(random() * intros.length)] ?? ''];
  if (features.has('list')) blocks.push('### Steps', list(topics));
  if (features.has('table'))
    blocks.push('### Comparison', table(topics.length > 0 ? topics : [a, b], random));
  if (features.has('code')) {
    const named = languagesIn(prompt);
    const languages =
      named.length > 0
        ? named.slice(0, 2)
        : [LANGUAGES[Math.floor(random() * LANGUAGES.length)] ?? 'typescript'];
    blocks.push('### Example');
    for (const language of languages) blocks.push(codeBlock(language, a, b));
  }
  if (features.has('markdown')) {
    blocks.push(`> Tip: keep ${a} small, and ~~optimise~~ measure before changing ${b}.`);
  }
  blocks.push(
    `See [the ${a} guide](https://example.com/guides/${identifier(a)}) or https://example.com/${identifier(b)} for more.`,
  );
  return blocks.join('\n\n');
}

/** Splits a document into tokens: each non-blank run with the whitespace (spaces, newlines) before it. */
export function markdownTokens(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}
