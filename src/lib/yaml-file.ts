/**
 * Reads YAML files with positions, so validation errors point at file:line:col.
 */
import { readFileSync } from "node:fs";
import { DataError, fromSystemError } from "../kernel/errors.ts";
import type { SchemaIssue, SchemaPath } from "./schema.ts";

type YamlModule = typeof import("yaml");
let yamlModule: YamlModule | undefined;

/** yaml is loaded on first use: `--help` must not pay for it. */
export async function loadYaml(): Promise<YamlModule> {
  yamlModule ??= await import("yaml");
  return yamlModule;
}

/** The typed error to throw (DataError, ConfigError …): callers choose the exit code. */
type ErrorClass = new (code: string, message: string, opts?: { hint?: string }) => Error;

export interface YamlFile {
  path: string;
  text: string;
  data: unknown;
  doc: import("yaml").Document.Parsed;
  lineCounter: import("yaml").LineCounter;
}

/** Parses a YAML file; syntax errors become DataError with file:line:col. Missing file → undefined. */
export async function readYamlFile(path: string, errorClass: ErrorClass = DataError): Promise<YamlFile | undefined> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw fromSystemError(error, path);
  }
  return parseYamlText(path, text, errorClass);
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
  return { path, text, data: doc.toJS() ?? {}, doc, lineCounter };
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
