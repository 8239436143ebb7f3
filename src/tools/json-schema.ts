/**
 * The JSON Schema subset the tool schemas use (object, string, integer, number, boolean;
 * required, additionalProperties, length, range, pattern), and a validator for it: arguments from
 * a model or an MCP client are checked before anything reaches the gate.
 */
export interface JsonSchema {
  type: "object" | "string" | "integer" | "number" | "boolean";
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
}

/** The first problem with `value`, as a sentence naming the argument; undefined when it is valid. */
export function validateJson(value: unknown, schema: JsonSchema, at = "arguments"): string | undefined {
  switch (schema.type) {
    case "object": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return `${at} must be an object`;
      const obj = value as Record<string, unknown>;
      for (const key of schema.required ?? []) if (obj[key] === undefined) return `${key} is required`;
      for (const [key, v] of Object.entries(obj)) {
        const sub = schema.properties?.[key];
        if (!sub) {
          if (schema.additionalProperties === false) return `unknown argument "${key}" (allowed: ${Object.keys(schema.properties ?? {}).join(", ") || "none"})`;
          continue;
        }
        if (v === undefined) continue;
        const problem = validateJson(v, sub, key);
        if (problem) return problem;
      }
      return undefined;
    }
    case "string": {
      if (typeof value !== "string") return `${at} must be a string`;
      if (schema.minLength !== undefined && value.length < schema.minLength) return `${at} must not be empty`;
      if (schema.maxLength !== undefined && value.length > schema.maxLength) return `${at} is longer than ${schema.maxLength} characters`;
      if (value.includes("\0")) return `${at} holds a NUL byte`;
      if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) return `${at} does not match ${schema.pattern}`;
      return undefined;
    }
    case "integer":
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value) || (schema.type === "integer" && !Number.isInteger(value))) return `${at} must be ${schema.type === "integer" ? "a whole number" : "a number"}`;
      if (schema.minimum !== undefined && value < schema.minimum) return `${at} must be at least ${schema.minimum}`;
      if (schema.maximum !== undefined && value > schema.maximum) return `${at} must be at most ${schema.maximum}`;
      return undefined;
    }
    case "boolean":
      return typeof value === "boolean" ? undefined : `${at} must be true or false`;
  }
}
