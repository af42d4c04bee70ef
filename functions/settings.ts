import { readSettings } from '../settings/read';
import type { Settings } from '../settings/settings';

/**
 * The process's settings, read from its environment once, when the first function module loads (cold
 * start): the one place in functions/, adapters/ and domain/ that touches `process.env`. A malformed
 * value throws here, naming the variable, before any request is served.
 */
export const settings: Settings = readSettings(process.env);
