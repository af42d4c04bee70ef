/**
 * DynamoDB item sizes and capacity units, by the rules in the developer guide ("Item sizes and formats",
 * "Read/write capacity mode"):
 * - an item is the sum of its attributes: UTF-8 bytes of the name plus the size of the value;
 * - string: UTF-8 bytes; binary: bytes; number: 1 byte per 2 significant digits, plus 1; boolean, null: 1;
 * - list, map: 3 bytes + the elements + 1 byte per element (a map element counts its name too);
 * - sets: the sum of their elements.
 * Units: strongly consistent read 1 RCU per 4 KB (eventually consistent 0.5), write 1 WCU per 1 KB,
 * rounded up per item (a Query rounds its total), never less than one unit's worth.
 */

export type AttributeValue = unknown;
export type Item = Readonly<Record<string, AttributeValue>>;

export const MAX_ITEM_BYTES = 400 * 1024;
const READ_UNIT_BYTES = 4 * 1024;
const WRITE_UNIT_BYTES = 1024;

const encoder = new TextEncoder();
export function utf8Bytes(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return encoder.encode(text).length;
  }
  return text.length;
}

/** Significant digits of a number as DynamoDB stores it (leading and trailing zeros trimmed). */
export function significantDigits(value: number): number {
  if (value === 0) return 1;
  const mantissa = Math.abs(value).toExponential().split('e')[0] ?? '';
  return mantissa.replace('.', '').replace(/0+$/, '').length || 1;
}

export function numberBytes(value: number): number {
  return Math.ceil(significantDigits(value) / 2) + 1;
}

/** The stored size of one attribute value (throws a ValidationException-like error for bad numbers). */
export function valueBytes(value: AttributeValue): number {
  if (typeof value === 'string') return utf8Bytes(value);
  if (typeof value === 'number') return numberBytes(checkNumber(value));
  if (typeof value === 'boolean' || value === null) return 1;
  if (typeof value === 'bigint') return numberBytes(Number(value));
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) {
    let total = 0;
    for (const element of value) total += valueBytes(element);
    return total;
  }
  if (Array.isArray(value)) {
    let total = 3;
    for (const element of value) {
      if (element === undefined) continue;
      total += valueBytes(element) + 1;
    }
    return total;
  }
  if (typeof value === 'object') {
    let total = 3;
    for (const [name, element] of Object.entries(value as Record<string, unknown>)) {
      if (element === undefined) continue;
      total += utf8Bytes(name) + valueBytes(element) + 1;
    }
    return total;
  }
  throw new SizeError(`Unsupported attribute value of type ${typeof value}`);
}

export function itemBytes(item: Item): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    total += utf8Bytes(name) + valueBytes(value);
  }
  return total;
}

export function readUnits(bytes: number, consistent: boolean): number {
  const units = Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES));
  return consistent ? units : units / 2;
}

export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / WRITE_UNIT_BYTES));
}

/** A value the real service refuses (its message, for a ValidationException). */
export class SizeError extends Error {}

/** DynamoDB numbers: finite, magnitude 1E-130 .. 9.9999999999999999999999999999999999999E+125. */
function checkNumber(value: number): number {
  if (!Number.isFinite(value)) throw new SizeError(`Special numeric value ${value} is not allowed`);
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && magnitude < 1e-130) throw new SizeError('Number underflow');
  if (magnitude >= 1e126) throw new SizeError('Number overflow');
  return value;
}
