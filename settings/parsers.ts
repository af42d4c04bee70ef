/**
 * Parsers for environment values: each turns the raw text into a typed value or throws a SettingError
 * naming the variable. No Node or SDK import: the Lambda functions, the CDK app and the tests share them.
 */

/** Any environment-like object (process.env, a test's literal, a CDK function's variables). */
export type Env = Readonly<Record<string, string | undefined>>;

/** A malformed or missing setting: the message names the variable and what it must be. */
export class SettingError extends Error {
  public override readonly name = 'SettingError';
}

/** Raw text (trimmed, never empty) → value; throws a SettingError naming `variable` when invalid. */
export type Parser<T> = (raw: string, variable: string) => T;

function finiteNumber(raw: string, variable: string, what: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new SettingError(`${variable} must be ${what}, got "${raw}".`);
  return value;
}

/** > 0: time-outs, intervals, sizes, thresholds. */
export const positiveNumber: Parser<number> = (raw, variable) => {
  const value = finiteNumber(raw, variable, 'a positive number');
  if (value <= 0) throw new SettingError(`${variable} must be a positive number, got "${raw}".`);
  return value;
};

/** ≥ 0: for waits where 0 means "do not wait". */
export const nonNegativeNumber: Parser<number> = (raw, variable) => {
  const value = finiteNumber(raw, variable, 'a number ≥ 0');
  if (value < 0) throw new SettingError(`${variable} must be a number ≥ 0, got "${raw}".`);
  return value;
};

/** A whole number ≥ 1: counts (turns, tokens, servers). */
export const positiveInteger: Parser<number> = (raw, variable) => {
  const value = positiveNumber(raw, variable);
  if (!Number.isInteger(value)) throw new SettingError(`${variable} must be a whole number, got "${raw}".`);
  return value;
};

/** > 0 and at most `max`. */
export function positiveAtMost(max: number): Parser<number> {
  return (raw, variable) => {
    const value = positiveNumber(raw, variable);
    if (value > max) throw new SettingError(`${variable} must be at most ${max}, got "${raw}".`);
    return value;
  };
}

/** Any non-empty text (names, URLs, ids). */
export const text: Parser<string> = (raw) => raw;

/** One of the listed words. */
export function oneOf<const T extends string>(...allowed: readonly T[]): Parser<T> {
  return (raw, variable) => {
    const found = allowed.find((candidate) => candidate === raw);
    if (found === undefined) {
      throw new SettingError(`${variable} must be one of ${allowed.join(', ')}, got "${raw}".`);
    }
    return found;
  };
}

/** A parser whose result must also pass `check` (a domain validator that throws its own message). */
export function checked<T>(parser: Parser<T>, check: (value: T) => T): Parser<T> {
  return (raw, variable) => {
    const value = parser(raw, variable);
    try {
      return check(value);
    } catch (error) {
      throw new SettingError(`${variable}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
}

/** The variable's trimmed text, or undefined when unset or blank (blank counts as unset). */
export function rawValue(env: Env, variable: string): string | undefined {
  const value = env[variable]?.trim();
  return value === undefined || value === '' ? undefined : value;
}
