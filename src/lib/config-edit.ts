/**
 * One edit of a YAML config file (the global config.yaml): under its lock, on the parsed document
 * (comments and order kept), validated against the merged schema before the file is replaced
 * atomically with mode 0600. Used by `provider add|rm|default`, `migrate` and `import`.
 */
import { ConfigError } from "../kernel/errors.ts";
import { atomicWrite } from "./atomic-write.ts";
import { withLock } from "./lock.ts";
import { validate, type SchemaNode } from "./schema.ts";
import { loadYaml, parseYamlText, readYamlFile, schemaError } from "./yaml-file.ts";

export interface ConfigEdit {
  /** The document's data before the edit (plain JS). */
  data: Record<string, unknown>;
  doc: import("yaml").Document;
}

/**
 * Runs `edit` on the document; writes only when the text changed. `edit` may throw to abort.
 * Returns whether the file changed.
 */
export async function editConfigFile(path: string, schema: SchemaNode, edit: (e: ConfigEdit) => void | Promise<void>): Promise<{ changed: boolean; text: string }> {
  return withLock(path, async () => {
    const YAML = await loadYaml();
    const existing = await readYamlFile(path, ConfigError);
    const doc = existing?.doc ?? new YAML.Document({});
    if (doc.contents === null || doc.contents === undefined) doc.contents = doc.createNode({}) as never;
    const before = existing?.text ?? "";
    const data = (doc.toJS() ?? {}) as Record<string, unknown>;
    await edit({ data, doc });
    const text = doc.toString();
    if (text === before || (before === "" && text.trim() === "{}")) return { changed: false, text: before };
    const parsed = await parseYamlText(path, text, ConfigError);
    const issues = validate(parsed.data ?? {}, schema);
    if (issues.length) throw schemaError(parsed, issues, ConfigError, "Nothing was written");
    await atomicWrite(path, text, { mode: 0o600 });
    return { changed: true, text };
  });
}

/** Removes `path` and the mappings its removal leaves empty, innermost first. */
export function deletePruning(doc: import("yaml").Document, path: string[]): void {
  doc.deleteIn(path);
  for (let n = path.length - 1; n > 0; n--) {
    const parent = doc.getIn(path.slice(0, n)) as { items?: unknown[] } | undefined;
    if (parent && Array.isArray(parent.items) && parent.items.length === 0) doc.deleteIn(path.slice(0, n));
    else break;
  }
}
