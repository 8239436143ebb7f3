/**
 * Reads YAML files with positions, so validation errors point at file:line:col. Reads are
 * size-capped and refuse devices and FIFOs (bounded-read.ts); alias expansion is capped, so a
 * "billion laughs" file is a one-line error rather than gigabytes of memory.
 */
import { createHash } from "node:crypto";
import { DataError, DeniedError } from "../kernel/errors.ts";
import { READ_LIMITS, readBounded, type ErrorClass } from "./bounded-read.ts";
import type { SchemaIssue, SchemaPath } from "./schema.ts";

type YamlModule = typeof import("yaml");
let yamlModule: YamlModule | undefined;

/** yaml is loaded on first use: `--help` must not pay for it. */
export async function loadYaml(): Promise<YamlModule> {
  yamlModule ??= await import("yaml");
  return yamlModule;
}

/** Aliases resolved per document: real config files use a handful. */
export const MAX_YAML_ALIASES = 100;

export interface YamlFile {
  path: string;
  text: string;
  data: unknown;
  doc: import("yaml").Document.Parsed;
  lineCounter: import("yaml").LineCounter;
}

export interface ReadYamlOptions {
  /**
   * The SHA-256 the file had when its folder was verified (a trusted workspace), or null when it
   * did not exist then: other bytes are refused, so what is used is exactly what was trusted.
   */
  pinned?: string | null;
}

/** Parses a YAML file; syntax errors become `errorClass` errors with file:line:col. Missing file → undefined. */
export async function readYamlFile(path: string, errorClass: ErrorClass = DataError, options: ReadYamlOptions = {}): Promise<YamlFile | undefined> {
  const bytes = readBounded(path, { maxBytes: READ_LIMITS.yaml, errorClass, what: "YAML state files" });
  if (options.pinned !== undefined) checkPinned(path, bytes, options.pinned);
  return bytes === undefined ? undefined : parseYamlText(path, bytes.toString("utf8"), errorClass);
}

function checkPinned(path: string, bytes: Buffer | undefined, pinned: string | null): void {
  const actual = bytes === undefined ? null : createHash("sha256").update(bytes).digest("hex");
  if (actual === pinned) return;
  throw new DeniedError("E_WORKSPACE_CHANGED", `${path} changed after the workspace was verified, so none of it was used`, {
    hint: "Run the command again; if the file keeps changing, find out what writes it before you trust the workspace again",
  });
}

export async function parseYamlText(path: string, text: string, errorClass: ErrorClass = DataError): Promise<YamlFile> {
  const YAML = await loadYaml();
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = lineCounter.linePos(e.pos[0]);
    const what = e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    throw new errorClass("E_YAML_SYNTAX", `${path}:${pos.line}:${pos.col}: invalid YAML: ${what}`, {
      hint: "Fix the file (an editor with YAML support shows the spot), then run again",
    });
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    // yaml throws a ReferenceError when aliases would expand past the cap.
    throw new errorClass("E_YAML_ALIASES", `${path}: invalid YAML: ${(error as Error).message.split("\n")[0]} (more than ${MAX_YAML_ALIASES} aliases)`, {
      hint: `Write the values out instead of repeating *aliases in ${path}`,
    });
  }
  return { path, text, data: data ?? {}, doc, lineCounter };
}

/** file:line:col of the node (or its key) at a schema path. */
export function locate(file: YamlFile, path: SchemaPath, atKey = false): string {
  const YAML = yamlModule!;
  let node: unknown = file.doc.contents;
  let keyNode: unknown;
  for (const segment of path) {
    if (YAML.isMap(node)) {
      const pair = node.items.find((p) => YAML.isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      keyNode = pair.key;
      node = pair.value;
    } else if (YAML.isSeq(node)) {
      keyNode = undefined;
      node = node.items[Number(segment)];
    } else break;
  }
  const target = (atKey && keyNode ? keyNode : node ?? keyNode) as { range?: [number, number, number] } | undefined;
  const offset = target?.range?.[0] ?? 0;
  const pos = file.lineCounter.linePos(offset);
  return `${file.path}:${pos.line}:${pos.col}`;
}

/** One error that lists every schema issue of a file, each with its position. */
export function schemaError(file: YamlFile, issues: SchemaIssue[], errorClass: ErrorClass, hint: string): Error {
  const lines = issues.map((i) => `${locate(file, i.path, i.atKey)}: ${i.path.join(".") || "(top)"}: ${i.message}`);
  return new errorClass("E_SCHEMA", lines.join("\n"), { hint });
}
