/**
 * Numbers as DynamoDB takes them. DynamoDB refuses NaN and ±Infinity, and any magnitude below 1E-130
 * ("Number underflow"): a value that decays towards 0 would stop every write it is part of. Every
 * number the fleet adapters write goes through one of these.
 */

/** Below this a measured quantity is 0 (also the domain's `settle`). */
const ZERO_BELOW = 1e-9;

/** A measured quantity: finite, exactly 0 when negligible, 6 significant digits (bytes matter per read). */
export function measured(value: number, attribute: string): number {
  if (!Number.isFinite(value)) throw new RangeError(`${attribute} must be a finite number, got ${value}`);
  if (Math.abs(value) < ZERO_BELOW) return 0;
  return Number(value.toPrecision(6));
}

/** A count, version or epoch-ms timestamp: a finite integer. */
export function whole(value: number, attribute: string): number {
  if (!Number.isFinite(value)) throw new RangeError(`${attribute} must be a finite number, got ${value}`);
  return Math.round(value);
}

/** The domain's Infinity (no server available) as null, anything else as a measured quantity. */
export function measuredOrNull(value: number, attribute: string): number | null {
  return value === Number.POSITIVE_INFINITY ? null : measured(value, attribute);
}
