/**
 * The open-loop arrival schedule: a non-homogeneous Poisson process (thinning) over the phases, with
 * each arrival's user drawn uniformly. Seeded, so every policy faces exactly the same prompts.
 */
import { createRandom } from '../../local/fleet/text';
import { offeredRate, type Phases, phaseBounds } from './config';

export interface Arrival {
  /** Seconds from the start of the load. */
  readonly at: number;
  readonly user: number;
  readonly prompt: number;
}

export function arrivalSchedule(
  phases: Phases,
  capacity: number,
  users: number,
  prompts: number,
  seed: number,
): Arrival[] {
  // The simulated fleet's seeded generator: uniform [0, 1), the same sequence for the same seed.
  const random = createRandom(seed);
  const { end } = phaseBounds(phases);
  const peak = Math.max(phases.lowFactor, phases.overloadFactor) * capacity;
  const arrivals: Arrival[] = [];
  let t = 0;
  for (;;) {
    t += -Math.log(1 - random()) / peak;
    if (t >= end) break;
    const accept = random() < offeredRate(t, phases, capacity) / peak;
    const user = Math.floor(random() * users);
    const prompt = Math.floor(random() * prompts);
    if (accept) arrivals.push({ at: t, user, prompt });
  }
  return arrivals;
}

export const PROMPTS: readonly string[] = [
  'How do I make my sourdough starter more active?',
  'Explain the difference between a process and a thread.',
  'What should I pack for a three-day hike in autumn?',
  'Summarise the causes of the French Revolution.',
  'Give me tips to improve my sleep schedule.',
  'How does a heat pump work in winter?',
  'Write a short poem about the sea at night.',
  'What is the best way to learn a new language as an adult?',
  'Why is the sky blue during the day and red at sunset?',
  'How do I negotiate a higher salary?',
  'Explain how vaccines train the immune system.',
  'What are good habits for writing clean code?',
];
