/**
 * A deliberately small schema language for config files: enough for strict validation with a
 * path per problem, so callers can point at file:line:col. Plugins declare their keys with it.
 */
export type SchemaNode = (
  | { type: "string"; enum?: readonly string[]; description?: string }
  | { type: "number"; min?: number; max?: number; integer?: boolean; description?: string }
  | { type: "boolean"; description?: string }
  | { type: "array"; items: SchemaNode; description?: string }
  | { type: "object"; properties?: Record<string, SchemaNode>; additional?: SchemaNode; required?: readonly string[]; description?: string }
  | { type: "oneOf"; of: readonly SchemaNode[]; description?: string }
  | { type: "any"; description?: string }
) & {
  /**
   * Honoured only in the global config file, never a workspace's: settings that run a command,
   * decide which host keys are trusted, or name a secret to send (a workspace value is ignored
   * with a notice).
   */
  globalOnly?: true;
};

export type SchemaPath = (string | number)[];

export interface SchemaIssue {
  path: SchemaPath;
  message: string;
  /** For unknown keys: point at the key, not the value. */
  atKey?: boolean;
}

export function validate(value: unknown, schema: SchemaNode, path: SchemaPath = []): SchemaIssue[] {
  switch (schema.type) {
    case "any":
      return [];
    case "string":
      if (typeof value !== "string") return [{ path, message: `expected a string, got ${describe(value)}` }];
      if (schema.enum && !schema.enum.includes(value)) {
        return [{ path, message: `must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}, got ${JSON.stringify(value)}` }];
      }
      return [];
    case "number":
      // YAML's .nan and .inf are numbers to the parser, never sensible settings.
      if (typeof value !== "number" || !Number.isFinite(value)) return [{ path, message: `expected a number, got ${describe(value)}` }];
      if (schema.integer && !Number.isInteger(value)) return [{ path, message: `expected a whole number, got ${value}` }];
      if (schema.min !== undefined && value < schema.min) return [{ path, message: `must be at least ${schema.min}, got ${value}` }];
      if (schema.max !== undefined && value > schema.max) return [{ path, message: `must be at most ${schema.max}, got ${value}` }];
      return [];
    case "boolean":
      return typeof value === "boolean" ? [] : [{ path, message: `expected true or false, got ${describe(value)}` }];
    case "array":
      if (!Array.isArray(value)) return [{ path, message: `expected a list, got ${describe(value)}` }];
      return value.flatMap((item, i) => validate(item, schema.items, [...path, i]));
    case "oneOf": {
      const attempts = schema.of.map((s) => validate(value, s, path));
      if (attempts.some((a) => a.length === 0)) return [];
      return [{ path, message: `expected ${schema.of.map(kindOf).join(" or ")}, got ${describe(value)}` }];
    }
    case "object": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        return [{ path, message: `expected a mapping, got ${describe(value)}` }];
      }
      const issues: SchemaIssue[] = [];
      const record = value as Record<string, unknown>;
      for (const key of schema.required ?? []) {
        if (!(key in record)) issues.push({ path, message: `missing required key "${key}"` });
      }
      for (const [key, child] of Object.entries(record)) {
        const sub = schema.properties?.[key] ?? schema.additional;
        if (!sub) {
          const known = Object.keys(schema.properties ?? {});
          const guess = closest(key, known);
          issues.push({
            path: [...path, key],
            atKey: true,
            message: `unknown key "${key}"${guess ? ` (did you mean "${guess}"?)` : known.length ? ` (known: ${known.join(", ")})` : ""}`,
          });
          continue;
        }
        issues.push(...validate(child, sub, [...path, key]));
      }
      return issues;
    }
  }
}

function kindOf(schema: SchemaNode): string {
  return schema.type === "object" ? "a mapping" : schema.type === "array" ? "a list" : `a ${schema.type}`;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "number" && !Number.isFinite(value)) return Number.isNaN(value) ? ".nan (not a number)" : "an infinite number";
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** Schema node at a dotted path, used by `config set` to parse and check a single value. */
export function schemaAt(schema: SchemaNode, path: SchemaPath): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema;
  for (const key of path) {
    if (!node) return undefined;
    if (node.type === "object") node = node.properties?.[String(key)] ?? node.additional;
    else if (node.type === "array") node = node.items;
    else if (node.type === "any") return node;
    else return undefined;
  }
  return node;
}

/** Edit distance where swapping two adjacent letters counts as one edit (typos like "modle"). */
export function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The closest candidate within a small edit distance, or a prefix match. */
export function closest(input: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(input) && input.length >= 2 ? 0.5 : distance(input, c);
    if (d < bestScore) {
      best = c;
      bestScore = d;
    }
  }
  return bestScore <= Math.max(1, Math.floor(input.length / 3)) ? best : undefined;
}
