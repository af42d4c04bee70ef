/**
 * The turn the cost model prices, and the target it is priced at. Environment overrides (COST_*) make
 * a quicker or a different run; the defaults are the scenario.
 */
import { DEFAULT_TUNABLE_OPTIONS } from '../../local/fleet/options';

export interface Scenario {
  /** Characters of each measured prompt. */
  readonly promptChars: number;
  /** Tokens of each answer (the simulated server's natural answer length). */
  readonly answerTokens: number;
  /** Decode speed of the simulated server while measuring. */
  readonly tokensPerSecond: number;
  readonly timeToFirstTokenMs: number;
  /** Completed turns already in the conversation of each measured turn. */
  readonly earlierTurns: number;
  /** Measured turns (sequential, as one Lambda environment serves them); the report gives their means. */
  readonly turns: number;
  /** Heartbeat shards (FLEET_SHARDS) and registered servers per shard: the target fleet, 2,300 servers. */
  readonly fleetShards: number;
  readonly serversPerShard: number;
  /** How long one heartbeat worker is measured. */
  readonly heartbeatSeconds: number;
  /**
   * A user's turns per quota window (3 h): each window's first grant writes its index entry once, and the
   * sweeper reads each window. 20 prompts a day over four or more windows; fewer turns a window cost more.
   */
  readonly turnsPerWindow: number;
}

export interface Target {
  readonly turnsPerDay: number;
  readonly peakTurnsPerSecond: number;
}

export const TARGET: Target = { turnsPerDay: 200_000_000, peakTurnsPerSecond: 5_800 };

/** Goals of issue 10. */
export const GOALS = { usdPerMillionTurns: 24, dynamodbRequestsPerTurn: 8 } as const;

function fromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}

export function scenarioFromEnv(): Scenario {
  return {
    promptChars: fromEnv('COST_PROMPT_CHARS', 600),
    answerTokens: fromEnv('COST_ANSWER_TOKENS', 400),
    tokensPerSecond: fromEnv('COST_TOKENS_PER_SECOND', 50),
    timeToFirstTokenMs: fromEnv('COST_TTFT_MS', DEFAULT_TUNABLE_OPTIONS.timeToFirstTokenMs),
    earlierTurns: fromEnv('COST_EARLIER_TURNS', 10),
    turns: fromEnv('COST_TURNS', 5),
    fleetShards: fromEnv('COST_FLEET_SHARDS', 64),
    serversPerShard: fromEnv('COST_SERVERS_PER_SHARD', 36),
    heartbeatSeconds: fromEnv('COST_HEARTBEAT_SECONDS', 8),
    turnsPerWindow: fromEnv('COST_TURNS_PER_WINDOW', 5),
  };
}

const SENTENCES = [
  'I am planning a two-week trip through northern Italy in late September with my partner.',
  'We like quiet towns, long walks, regional food and a museum or two, but not crowded sights.',
  'We will arrive in Milan by train and want to leave from Venice, without renting a car.',
  'Could you suggest a route with three or four bases, how many nights to spend in each,',
  'which day trips are easy by regional train, and what we should book in advance?',
  'Please also mention local dishes worth trying and any market days we could plan around.',
  'A rough budget for mid-range hotels and second-class trains would help us decide.',
];

/** A realistic English prompt of exactly `chars` characters; `n` varies it so no two are equal. */
export function promptText(chars: number, n: number): string {
  let text = `(${n}) `;
  for (let i = 0; text.length < chars; i++) text += `${SENTENCES[(n + i) % SENTENCES.length]} `;
  return text.slice(0, chars);
}
