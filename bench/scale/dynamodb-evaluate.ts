/** Evaluates parsed DynamoDB expressions against plain items (DocumentClient values). */

import type { Item } from '../shared/dynamodb-size';
import {
  type Condition,
  ExpressionError,
  type Operand,
  type Path,
  type PathSegment,
  type UpdateAction,
} from './dynamodb-expressions';

type Value = unknown;
type Mutable = Record<string, Value>;

export function getPath(item: Item | undefined, path: Path): Value {
  let current: Value = item;
  for (const segment of path) {
    if (current === undefined || current === null) return undefined;
    if (typeof segment === 'number') {
      current = Array.isArray(current) ? current[segment] : undefined;
    } else {
      current =
        typeof current === 'object' && !Array.isArray(current) && !(current instanceof Set)
          ? (current as Record<string, Value>)[segment]
          : undefined;
    }
  }
  return current;
}

function operandValue(item: Item | undefined, operand: Operand): Value {
  switch (operand.kind) {
    case 'value':
      return operand.value;
    case 'path':
      return getPath(item, operand.path);
    case 'size': {
      const value = getPath(item, operand.path);
      if (typeof value === 'string') return new TextEncoder().encode(value).length;
      if (value instanceof Uint8Array) return value.byteLength;
      if (value instanceof Set) return value.size;
      if (Array.isArray(value)) return value.length;
      if (value !== null && typeof value === 'object') return Object.keys(value).length;
      return undefined;
    }
    case 'if_not_exists': {
      const value = getPath(item, operand.path);
      return value === undefined ? operandValue(item, operand.fallback) : value;
    }
    case 'list_append': {
      const a = operandValue(item, operand.a);
      const b = operandValue(item, operand.b);
      if (!Array.isArray(a) || !Array.isArray(b)) throw new ExpressionError('list_append needs two lists');
      return [...a, ...b];
    }
    case 'arith': {
      const a = operandValue(item, operand.a);
      const b = operandValue(item, operand.b);
      if (typeof a !== 'number' || typeof b !== 'number') {
        throw new ExpressionError('An operand in the update expression has an incorrect data type');
      }
      return operand.op === '+' ? a + b : a - b;
    }
  }
}

function typeOf(value: Value): string {
  if (value === null) return 'NULL';
  if (Array.isArray(value)) return 'L';
  if (value instanceof Set) return 'SS';
  if (value instanceof Uint8Array) return 'B';
  return typeof value;
}

export function deepEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (typeOf(a) !== typeOf(b) || typeof a !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (a instanceof Set && b instanceof Set) return a.size === b.size && [...a].every((v) => b.has(v));
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return (
    ka.length === kb.length &&
    ka.every((key) => deepEqual((a as Record<string, Value>)[key], (b as Record<string, Value>)[key]))
  );
}

/** Ordering of two scalars of the same type (number or string); undefined when not comparable. */
function order(a: Value, b: Value): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

export function evaluate(condition: Condition, item: Item | undefined): boolean {
  switch (condition.kind) {
    case 'and':
      return evaluate(condition.a, item) && evaluate(condition.b, item);
    case 'or':
      return evaluate(condition.a, item) || evaluate(condition.b, item);
    case 'not':
      return !evaluate(condition.c, item);
    case 'exists':
      return getPath(item, condition.path) !== undefined;
    case 'not_exists':
      return getPath(item, condition.path) === undefined;
    case 'begins_with': {
      const value = getPath(item, condition.path);
      const prefix = operandValue(item, condition.operand);
      return typeof value === 'string' && typeof prefix === 'string' && value.startsWith(prefix);
    }
    case 'contains': {
      const value = getPath(item, condition.path);
      const part = operandValue(item, condition.operand);
      if (typeof value === 'string') return typeof part === 'string' && value.includes(part);
      if (value instanceof Set) return value.has(part);
      if (Array.isArray(value)) return value.some((element) => deepEqual(element, part));
      return false;
    }
    case 'between': {
      const v = operandValue(item, condition.v);
      const low = order(v, operandValue(item, condition.low));
      const high = order(v, operandValue(item, condition.high));
      return low !== undefined && high !== undefined && low >= 0 && high <= 0;
    }
    case 'in': {
      const v = operandValue(item, condition.v);
      return v !== undefined && condition.list.some((entry) => deepEqual(v, operandValue(item, entry)));
    }
    case 'cmp': {
      const a = operandValue(item, condition.a);
      const b = operandValue(item, condition.b);
      if (a === undefined || b === undefined)
        return condition.op === '<>' && (a !== undefined || b !== undefined);
      if (condition.op === '=') return deepEqual(a, b);
      if (condition.op === '<>') return !deepEqual(a, b);
      const o = order(a, b);
      if (o === undefined) return false;
      if (condition.op === '<') return o < 0;
      if (condition.op === '<=') return o <= 0;
      if (condition.op === '>') return o > 0;
      return o >= 0;
    }
  }
}

/** A deep copy of plain DocumentClient values. */
export function clone<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return value.slice() as T;
  if (value instanceof Set) return new Set([...value].map(clone)) as T;
  if (Array.isArray(value)) return value.filter((v) => v !== undefined).map(clone) as T;
  const out: Mutable = {};
  for (const [key, element] of Object.entries(value as Mutable))
    if (element !== undefined) out[key] = clone(element);
  return out as T;
}

/** Deep-freezes a stored item: the real client returns fresh objects, so code must not count on sharing. */
export function deepFreeze<T>(value: T): T {
  if (
    value !== null &&
    typeof value === 'object' &&
    !(value instanceof Uint8Array) &&
    !Object.isFrozen(value)
  ) {
    for (const element of Object.values(value as object)) deepFreeze(element);
    Object.freeze(value);
  }
  return value;
}

function setPath(target: Mutable, path: Path, value: Value): void {
  let current: Value = target;
  for (let i = 0; i < path.length - 1; i++) {
    const segment = path[i] as PathSegment;
    const next = (current as Record<PathSegment, Value>)[segment];
    if (next === undefined || next === null || typeof next !== 'object') {
      throw new ExpressionError('The document path provided in the update expression is invalid for update');
    }
    current = next;
  }
  const last = path[path.length - 1] as PathSegment;
  if (typeof last === 'number' && Array.isArray(current)) {
    if (last >= current.length) current.push(value);
    else current[last] = value;
  } else (current as Record<PathSegment, Value>)[last] = value;
}

function removePath(target: Mutable, path: Path): void {
  const parent = path.length === 1 ? target : getPath(target, path.slice(0, -1));
  const last = path[path.length - 1] as PathSegment;
  if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
  else if (parent !== null && typeof parent === 'object') delete (parent as Record<PathSegment, Value>)[last];
}

/** The item after the update's actions (all operands read the item as it was before the update). */
export function applyUpdate(before: Item | undefined, actions: readonly UpdateAction[]): Mutable {
  const after = clone((before ?? {}) as Mutable);
  const values = actions.map((action) =>
    action.kind === 'remove' ? undefined : operandValue(before, action.value),
  );
  actions.forEach((action, index) => {
    const value = values[index];
    if (action.kind === 'remove') removePath(after, action.path);
    else if (action.kind === 'set') setPath(after, action.path, clone(value));
    else {
      const current = getPath(after, action.path);
      if (typeof value === 'number')
        setPath(after, action.path, (typeof current === 'number' ? current : 0) + value);
      else if (value instanceof Set)
        setPath(after, action.path, new Set([...(current instanceof Set ? current : []), ...value]));
      else throw new ExpressionError('ADD needs a number or a set');
    }
  });
  return after;
}

/** Only the projected paths of an item (top-level and nested maps; list elements by index). */
export function project(item: Item, paths: readonly Path[]): Mutable {
  const out: Mutable = {};
  for (const path of paths) {
    const value = getPath(item, path);
    if (value === undefined) continue;
    let target: Mutable = out;
    for (let i = 0; i < path.length - 1; i++) {
      const key = String(path[i]);
      target[key] ??= {};
      target = target[key] as Mutable;
    }
    target[String(path[path.length - 1])] = clone(value);
  }
  return out;
}
