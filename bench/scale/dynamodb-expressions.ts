/**
 * The DynamoDB expression language, as far as the adapters use it: condition and key-condition expressions
 * (comparisons, BETWEEN, IN, AND/OR/NOT, attribute_exists, attribute_not_exists, begins_with, contains,
 * size), projections, and update expressions (SET with +, -, if_not_exists, list_append; REMOVE; ADD).
 * Placeholders are resolved while parsing; names and values supplied but never used, undefined
 * placeholders and reserved words used bare are refused, as the service does.
 */
import { RESERVED_WORDS } from './dynamodb-reserved';

export type PathSegment = string | number;
export type Path = readonly PathSegment[];

export type Operand =
  | { readonly kind: 'path'; readonly path: Path }
  | { readonly kind: 'value'; readonly value: unknown }
  | { readonly kind: 'size'; readonly path: Path }
  | { readonly kind: 'if_not_exists'; readonly path: Path; readonly fallback: Operand }
  | { readonly kind: 'list_append'; readonly a: Operand; readonly b: Operand }
  | { readonly kind: 'arith'; readonly op: '+' | '-'; readonly a: Operand; readonly b: Operand };

export type Condition =
  | { readonly kind: 'and' | 'or'; readonly a: Condition; readonly b: Condition }
  | { readonly kind: 'not'; readonly c: Condition }
  | { readonly kind: 'cmp'; readonly op: Comparator; readonly a: Operand; readonly b: Operand }
  | { readonly kind: 'between'; readonly v: Operand; readonly low: Operand; readonly high: Operand }
  | { readonly kind: 'in'; readonly v: Operand; readonly list: readonly Operand[] }
  | { readonly kind: 'exists' | 'not_exists'; readonly path: Path }
  | { readonly kind: 'begins_with' | 'contains'; readonly path: Path; readonly operand: Operand };

export type Comparator = '=' | '<>' | '<' | '<=' | '>' | '>=';

export type UpdateAction =
  | { readonly kind: 'set'; readonly path: Path; readonly value: Operand }
  | { readonly kind: 'remove'; readonly path: Path }
  | { readonly kind: 'add'; readonly path: Path; readonly value: Operand };

export class ExpressionError extends Error {}

/** Placeholder maps of one request, with use tracking (unused ones are an error). */
export class Placeholders {
  private readonly usedNames = new Set<string>();
  private readonly usedValues = new Set<string>();

  constructor(
    private readonly names: Readonly<Record<string, string>> = {},
    private readonly values: Readonly<Record<string, unknown>> = {},
  ) {}

  name(token: string): string {
    const name = this.names[token];
    if (name === undefined) {
      throw new ExpressionError(
        `An expression attribute name used in the document path is not defined; attribute name: ${token}`,
      );
    }
    this.usedNames.add(token);
    return name;
  }

  value(token: string): unknown {
    if (!(token in this.values)) {
      throw new ExpressionError(
        `An expression attribute value used in expression is not defined; attribute value: ${token}`,
      );
    }
    this.usedValues.add(token);
    return this.values[token];
  }

  /** Throws when a supplied placeholder was not used by any expression of the request. */
  checkAllUsed(): void {
    const names = Object.keys(this.names).filter((key) => !this.usedNames.has(key));
    if (names.length > 0) {
      throw new ExpressionError(
        `Value provided in ExpressionAttributeNames unused in expressions: keys: {${names.join(', ')}}`,
      );
    }
    const values = Object.keys(this.values).filter((key) => !this.usedValues.has(key));
    if (values.length > 0) {
      throw new ExpressionError(
        `Value provided in ExpressionAttributeValues unused in expressions: keys: {${values.join(', ')}}`,
      );
    }
  }
}

const TOKEN = /\s*(#[A-Za-z0-9_]+|:[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*|\d+|<>|<=|>=|[=<>(),.[\]+-])/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const match = TOKEN.exec(text);
    if (!match?.[1])
      throw new ExpressionError(`Invalid expression: syntax error near "${text.slice(TOKEN.lastIndex)}"`);
    tokens.push(match[1]);
  }
  return tokens;
}

class Parser {
  private index = 0;
  private readonly tokens: string[];

  constructor(
    private readonly text: string,
    private readonly placeholders: Placeholders,
  ) {
    this.tokens = tokenize(text);
  }

  private peek(offset = 0): string | undefined {
    return this.tokens[this.index + offset];
  }

  private peekUpper(): string | undefined {
    return this.peek()?.toUpperCase();
  }

  private take(): string {
    const token = this.tokens[this.index++];
    if (token === undefined)
      throw new ExpressionError(`Invalid expression: unexpected end of "${this.text}"`);
    return token;
  }

  private expect(token: string): void {
    const got = this.take();
    if (got.toUpperCase() !== token)
      throw new ExpressionError(`Invalid expression: expected ${token}, got ${got}`);
  }

  end(): void {
    if (this.index < this.tokens.length) {
      throw new ExpressionError(`Invalid expression: unexpected token ${this.peek()} in "${this.text}"`);
    }
  }

  condition(): Condition {
    let left = this.conjunction();
    while (this.peekUpper() === 'OR') {
      this.take();
      left = { kind: 'or', a: left, b: this.conjunction() };
    }
    return left;
  }

  private conjunction(): Condition {
    let left = this.negation();
    while (this.peekUpper() === 'AND') {
      this.take();
      left = { kind: 'and', a: left, b: this.negation() };
    }
    return left;
  }

  private negation(): Condition {
    if (this.peekUpper() === 'NOT') {
      this.take();
      return { kind: 'not', c: this.negation() };
    }
    return this.primary();
  }

  private primary(): Condition {
    if (this.peek() === '(') {
      this.take();
      const inner = this.condition();
      this.expect(')');
      return inner;
    }
    const fn = this.peek()?.toLowerCase();
    if (this.peek(1) === '(' && fn !== 'size') {
      this.take();
      this.expect('(');
      const path = this.path();
      let result: Condition;
      if (fn === 'attribute_exists') result = { kind: 'exists', path };
      else if (fn === 'attribute_not_exists') result = { kind: 'not_exists', path };
      else if (fn === 'begins_with' || fn === 'contains') {
        this.expect(',');
        result = { kind: fn, path, operand: this.operand() };
      } else throw new ExpressionError(`Invalid expression: unsupported function ${fn}`);
      this.expect(')');
      return result;
    }
    const v = this.operand();
    const next = this.peekUpper();
    if (next === 'BETWEEN') {
      this.take();
      const low = this.operand();
      this.expect('AND');
      return { kind: 'between', v, low, high: this.operand() };
    }
    if (next === 'IN') {
      this.take();
      this.expect('(');
      const list = [this.operand()];
      while (this.peek() === ',') {
        this.take();
        list.push(this.operand());
      }
      this.expect(')');
      return { kind: 'in', v, list };
    }
    const op = this.take();
    if (!['=', '<>', '<', '<=', '>', '>='].includes(op)) {
      throw new ExpressionError(`Invalid expression: expected a comparator, got ${op}`);
    }
    return { kind: 'cmp', op: op as Comparator, a: v, b: this.operand() };
  }

  operand(): Operand {
    const token = this.peek();
    if (token?.startsWith(':')) return { kind: 'value', value: this.placeholders.value(this.take()) };
    if (token?.toLowerCase() === 'size' && this.peek(1) === '(') {
      this.take();
      this.expect('(');
      const path = this.path();
      this.expect(')');
      return { kind: 'size', path };
    }
    return { kind: 'path', path: this.path() };
  }

  /** SET's right-hand side: operand [+|- operand], if_not_exists(path, value), list_append(a, b). */
  setValue(): Operand {
    const first = this.setTerm();
    const op = this.peek();
    if (op === '+' || op === '-') {
      this.take();
      return { kind: 'arith', op, a: first, b: this.setTerm() };
    }
    return first;
  }

  private setTerm(): Operand {
    const fn = this.peek()?.toLowerCase();
    if (this.peek(1) === '(' && (fn === 'if_not_exists' || fn === 'list_append')) {
      this.take();
      this.expect('(');
      const first = fn === 'if_not_exists' ? this.path() : this.setValue();
      this.expect(',');
      const second = this.setValue();
      this.expect(')');
      return fn === 'if_not_exists'
        ? { kind: 'if_not_exists', path: first as Path, fallback: second }
        : { kind: 'list_append', a: first as Operand, b: second };
    }
    return this.operand();
  }

  path(): Path {
    const segments: PathSegment[] = [this.name()];
    for (;;) {
      if (this.peek() === '.') {
        this.take();
        segments.push(this.name());
      } else if (this.peek() === '[') {
        this.take();
        const index = Number(this.take());
        if (!Number.isInteger(index)) throw new ExpressionError('Invalid expression: bad list index');
        this.expect(']');
        segments.push(index);
      } else return segments;
    }
  }

  private name(): string {
    const token = this.take();
    if (token.startsWith('#')) return this.placeholders.name(token);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(token))
      throw new ExpressionError(`Invalid expression: bad name ${token}`);
    if (RESERVED_WORDS.has(token.toUpperCase())) {
      throw new ExpressionError(
        `Invalid expression: Attribute name is a reserved keyword; reserved keyword: ${token}`,
      );
    }
    return token;
  }

  update(): UpdateAction[] {
    const actions: UpdateAction[] = [];
    const seen = new Set<string>();
    while (this.index < this.tokens.length) {
      const clause = this.take().toUpperCase();
      if (seen.has(clause))
        throw new ExpressionError(`Invalid UpdateExpression: The "${clause}" section can only be used once`);
      seen.add(clause);
      do {
        if (actions.length > 0 && this.peek() === ',') this.take();
        const path = this.path();
        if (clause === 'SET') {
          this.expect('=');
          actions.push({ kind: 'set', path, value: this.setValue() });
        } else if (clause === 'REMOVE') actions.push({ kind: 'remove', path });
        else if (clause === 'ADD') actions.push({ kind: 'add', path, value: this.operand() });
        else throw new ExpressionError(`Invalid UpdateExpression: unsupported clause ${clause}`);
      } while (this.peek() === ',');
    }
    return actions;
  }

  projection(): Path[] {
    const paths = [this.path()];
    while (this.peek() === ',') {
      this.take();
      paths.push(this.path());
    }
    return paths;
  }
}

export function parseCondition(text: string, placeholders: Placeholders): Condition {
  const parser = new Parser(text, placeholders);
  const condition = parser.condition();
  parser.end();
  return condition;
}

export function parseUpdate(text: string, placeholders: Placeholders): UpdateAction[] {
  const parser = new Parser(text, placeholders);
  const actions = parser.update();
  parser.end();
  if (actions.length === 0) throw new ExpressionError('Invalid UpdateExpression: empty');
  return actions;
}

export function parseProjection(text: string, placeholders: Placeholders): Path[] {
  const parser = new Parser(text, placeholders);
  const paths = parser.projection();
  parser.end();
  return paths;
}
