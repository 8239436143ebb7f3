import type { SchemaNode } from "../lib/schema.ts";

/** Config keys that belong to the CLI itself rather than to a plugin (none yet: plugins own theirs). */
export const CORE_CONFIG: Record<string, SchemaNode> = {};
