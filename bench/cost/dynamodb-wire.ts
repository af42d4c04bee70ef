/**
 * DynamoDB's wire format (JSON 1.0 AttributeValues, as in a request body or a low-level client's output)
 * to plain values that bench/shared/dynamodb-size.ts sizes: S → string, N → number, B → bytes,
 * BOOL, NULL → null, L → array, M → object, SS/NS/BS → Set.
 */
import type { Item } from '../shared/dynamodb-size';

export type WireValue = Readonly<Record<string, unknown>>;
export type WireItem = Readonly<Record<string, WireValue>>;

const bytesOf = (value: unknown): Uint8Array =>
  value instanceof Uint8Array ? value : Buffer.from(String(value), 'base64');

export function fromWireValue(value: WireValue): unknown {
  if ('S' in value) return String(value.S);
  if ('N' in value) return Number(value.N);
  if ('B' in value) return bytesOf(value.B);
  if ('BOOL' in value) return value.BOOL === true;
  if ('NULL' in value) return null;
  if ('L' in value) return (value.L as WireValue[]).map(fromWireValue);
  if ('M' in value) return fromWire(value.M as WireItem);
  if ('SS' in value) return new Set((value.SS as unknown[]).map(String));
  if ('NS' in value) return new Set((value.NS as unknown[]).map(Number));
  if ('BS' in value) return new Set((value.BS as unknown[]).map(bytesOf));
  throw new Error(`Unknown AttributeValue ${JSON.stringify(value)}`);
}

export function fromWire(item: WireItem): Item {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) out[name] = fromWireValue(value);
  return out;
}

/** The key attributes of a wire item, still in wire form (to read the same item back). */
export function wireKey(item: WireItem, names: readonly (string | undefined)[]): WireItem {
  const key: Record<string, WireValue> = {};
  for (const name of names) {
    if (name === undefined) continue;
    const value = item[name];
    if (value === undefined) throw new Error(`Item has no key attribute ${name}`);
    key[name] = value;
  }
  return key;
}
