/**
 * The remote tools a model may call — by opsterm's own agent and through the MCP server — as one
 * module: their strict JSON Schemas, MCP annotations, and how each call becomes actions through
 * the gate (policy, approval, audit, snapshots). A call never throws for an expected failure: it
 * returns an envelope the model can read (status, exit code, output with truncation metadata,
 * audit seq, snapshot ref). Output is capped (head and tail kept) and redacted before it leaves.
 */
import { createHash } from "node:crypto";
import type { ActionResult, Actions, Approver, Origin } from "../kernel/index.ts";
import { exitCodeFor } from "../kernel/actions.ts";
import type { ResolvedServer } from "../contracts/inventory.ts";
import { validateJson, type JsonSchema } from "./json-schema.ts";

/** 16 KiB of output per stream reaches the model; the middle of longer output is cut. */
export const OUTPUT_LIMIT = 16 * 1024;
/** A file read returns at most this much per call (page with offset/length). */
export const READ_LIMIT = 64 * 1024;
const DEFAULT_TIMEOUT_MS = 60_000;

export type ToolName = "list_servers" | "remote_exec" | "remote_read_file" | "remote_write_file" | "remote_patch_file" | "remote_list_dir" | "remote_stat" | "remote_find";

export interface ToolDefinition {
  name: ToolName;
  description: string;
  inputSchema: JsonSchema;
  /** MCP tool annotations: hints for clients; opsterm enforces its own policy regardless. */
  annotations: { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean; openWorldHint: boolean };
}

/** What a tool call returns to the model. */
export interface ToolEnvelope {
  status: "ok" | "failed" | "denied" | "rejected" | "error";
  tool: ToolName;
  server?: string;
  exitCode?: number | null;
  stdout?: CappedText;
  stderr?: CappedText;
  /** read_file: the text (capped), its size and where this slice starts. */
  content?: CappedText & { offset: number; size: number; encoding: "utf8" | "base64" };
  entries?: unknown[];
  /** A listing or search stopped at its limit. */
  truncated?: boolean;
  stat?: unknown;
  servers?: unknown[];
  /** Writes: what was written and its snapshots (for undo). */
  written?: { path: string; bytes: number; sha256: string; snapshot?: { before?: string; after?: string } };
  auditSeq?: number;
  /** Why it did not run or failed: a code from `opsterm help errors`, the policy rule when one decided. */
  error?: { code: string; message: string; rule?: string };
  /** How long the call took, in ms. */
  durationMs?: number;
  /** The agent adds the host's facts (OS, package manager, init …) to the first call on a host. */
  hostFacts?: string;
}

export interface CappedText {
  text: string;
  truncated: boolean;
  /** Bytes of the middle that were left out. */
  omittedBytes: number;
}

export interface ToolContext {
  actions: Pick<Actions, "run" | "preview">;
  /** The inventory (list_servers, and checking a server before anything is asked of the gate). */
  listServers(): Promise<ResolvedServer[]>;
  origin: Origin;
  /** `ai:openai/gpt-4o`, `mcp:claude-code`: how audit and history name who acted. */
  actor: string;
  /** Links every action of one conversation or MCP session. */
  conversation?: string;
  /** A session bound to one server (`opsterm connect`): the schemas take no `server`, and nothing else is reachable. */
  boundServer?: string;
  approver?: Approver;
  preApproved?: boolean | string;
  signal?: AbortSignal;
  /** Masks secrets in what goes back to the model. */
  redact?: (text: string) => string;
  /** remote_exec's deadline when the call gives no `timeout` (default 60 s). */
  defaultTimeoutMs?: number;
}

const SERVER = { type: "string", minLength: 1, maxLength: 200, description: "Inventory id of the server (list_servers shows them)" } as const;
const PATH = { type: "string", minLength: 1, maxLength: 4096, description: "Absolute path on the server" } as const;

interface Spec {
  description: string;
  properties: Record<string, JsonSchema>;
  required: string[];
  annotations: ToolDefinition["annotations"];
}

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

const SPECS: Record<ToolName, Spec> = {
  list_servers: {
    description: "List the servers you may work on: id, user@host, tags, tier, description.",
    properties: {},
    required: [],
    annotations: READ_ONLY,
  },
  remote_exec: {
    description:
      "Run a shell command on a server. Every command passes opsterm's policy: read-only inspection runs at once, anything that changes state needs a person's approval, destructive commands are refused. Output is capped at 16 KiB per stream (head and tail kept).",
    properties: {
      server: SERVER,
      command: { type: "string", minLength: 1, maxLength: 16_384, description: "The command line (bash)" },
      cwd: { type: "string", minLength: 1, maxLength: 4096, description: "Directory to run it in" },
      timeout: { type: "integer", minimum: 1, maximum: 3600, description: "Seconds before the command is stopped (default 60)" },
    },
    required: ["server", "command"],
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  },
  remote_read_file: {
    description: "Read a file on a server (text; binary comes back as base64). At most 64 KiB per call: use offset and length to page through larger files.",
    properties: {
      server: SERVER,
      path: PATH,
      offset: { type: "integer", minimum: 0, description: "Byte offset to start at (default 0)" },
      length: { type: "integer", minimum: 1, maximum: READ_LIMIT, description: "Bytes to read (default and maximum 65536)" },
    },
    required: ["server", "path"],
    annotations: READ_ONLY,
  },
  remote_write_file: {
    description: "Write a whole file on a server (atomic replace, snapshotted before and after so it can be undone). Needs a person's approval; the existing file keeps its mode unless `mode` is given.",
    properties: {
      server: SERVER,
      path: PATH,
      content: { type: "string", maxLength: 4 * 1024 * 1024, description: "The complete new content" },
      mode: { type: "string", pattern: "^0?[0-7]{3,4}$", description: "File mode in octal, e.g. 0644" },
    },
    required: ["server", "path", "content"],
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  },
  remote_patch_file: {
    description:
      "Apply a unified diff to a file on a server. The patch must apply exactly (its context must match the current file); nothing is written otherwise, or if the file changed meanwhile. Snapshotted, undoable, needs approval.",
    properties: {
      server: SERVER,
      path: PATH,
      unified_diff: { type: "string", minLength: 1, maxLength: 1024 * 1024, description: "A unified diff (---/+++ headers optional, @@ hunks required)" },
    },
    required: ["server", "path", "unified_diff"],
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  },
  remote_list_dir: {
    description: "List a directory on a server: names, types, sizes, modes, times.",
    properties: {
      server: SERVER,
      path: PATH,
      recursive: { type: "boolean", description: "Descend into subdirectories" },
      limit: { type: "integer", minimum: 1, maximum: 10_000, description: "Entries at most (default 1000)" },
    },
    required: ["server", "path"],
    annotations: READ_ONLY,
  },
  remote_stat: {
    description: "Stat a path on a server: whether it exists, its type, size, mode, owner and time; a symlink's target.",
    properties: { server: SERVER, path: PATH },
    required: ["server", "path"],
    annotations: READ_ONLY,
  },
  remote_find: {
    description: "Find files under a directory on a server whose name matches a glob (e.g. *.conf). Walks the tree over SFTP; no shell is involved.",
    properties: {
      server: SERVER,
      path: PATH,
      pattern: { type: "string", minLength: 1, maxLength: 256, description: "Glob on file names: *, ?, [abc]" },
      limit: { type: "integer", minimum: 1, maximum: 10_000, description: "Matches at most (default 200)" },
    },
    required: ["server", "path", "pattern"],
    annotations: READ_ONLY,
  },
};

export const TOOL_NAMES = Object.keys(SPECS) as ToolName[];

/** The tool list a model or an MCP client sees. Bound to one server, no schema takes `server`. */
export function toolDefinitions(options: { boundServer?: string } = {}): ToolDefinition[] {
  return TOOL_NAMES.map((name) => {
    const spec = SPECS[name];
    const bound = options.boundServer !== undefined;
    const properties = bound ? Object.fromEntries(Object.entries(spec.properties).filter(([k]) => k !== "server")) : spec.properties;
    const required = bound ? spec.required.filter((k) => k !== "server") : spec.required;
    const description = bound && name !== "list_servers" ? `${spec.description} (on ${options.boundServer})` : spec.description;
    return { name, description, inputSchema: { type: "object", properties, required, additionalProperties: false }, annotations: spec.annotations };
  });
}

/** A wrong argument: what a model or client must fix; nothing was asked of the gate. */
export class ToolArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ToolArgumentError";
  }
}

/** Checks a call's arguments against the tool's schema; throws ToolArgumentError (an MCP invalid-params error). */
export function checkArguments(name: string, args: unknown, options: { boundServer?: string } = {}): Record<string, unknown> {
  if (!(name in SPECS)) throw new ToolArgumentError(`Unknown tool "${name}"; the tools are ${TOOL_NAMES.join(", ")}`);
  const schema = toolDefinitions(options).find((t) => t.name === name)!.inputSchema;
  const problem = validateJson(args ?? {}, schema);
  if (problem) throw new ToolArgumentError(`${name}: ${problem}`);
  return (args ?? {}) as Record<string, unknown>;
}

/** Runs one tool call through the gate. Throws only ToolArgumentError (bad arguments). */
export async function callTool(name: string, rawArgs: unknown, ctx: ToolContext): Promise<ToolEnvelope> {
  const args = checkArguments(name, rawArgs, { boundServer: ctx.boundServer });
  const tool = name as ToolName;
  const started = Date.now();
  const server = ctx.boundServer ?? (args.server as string | undefined);
  const envelope = await run(tool, args, server, ctx);
  return redactEnvelope({ ...envelope, durationMs: Date.now() - started }, ctx.redact);
}

async function run(tool: ToolName, args: Record<string, unknown>, server: string | undefined, ctx: ToolContext): Promise<ToolEnvelope> {
  if (tool === "list_servers") {
    const all = await ctx.listServers();
    const visible = ctx.boundServer ? all.filter((s) => s.id === ctx.boundServer) : all;
    // Addresses and tags, never key paths: credentials stay out of what a model sees.
    return { status: "ok", tool, servers: visible.map((s) => ({ id: s.id, address: `${s.user}@${s.host}${s.port === 22 ? "" : `:${s.port}`}`, tags: s.tags, tier: s.tier ?? null, desc: s.desc ?? null, via: s.via.map((h) => h.id) })) };
  }
  const base = { target: server!, origin: ctx.origin, actor: ctx.actor, conversation: ctx.conversation };
  const options = { approver: ctx.approver, preApproved: ctx.preApproved, signal: ctx.signal };
  switch (tool) {
    case "remote_exec": {
      // The head and the tail of each stream are kept as it flows (errors are usually at the end);
      // the middle of a long output is only counted.
      const out = headTail();
      const err = headTail();
      const result = await ctx.actions.run(
        // A cancelled or timed-out call must not leave the command running on the server.
        { ...base, kind: "exec", command: String(args.command), cwd: args.cwd as string | undefined, params: { killOnAbort: true } },
        { ...options, io: { timeoutMs: args.timeout !== undefined ? (args.timeout as number) * 1000 : (ctx.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS), maxCapture: 0, onStdout: out.add, onStderr: err.add } },
      );
      return result.attempted ? { ...outcome(tool, result), stdout: out.result(), stderr: err.result() } : outcome(tool, result);
    }
    case "remote_read_file": {
      const offset = (args.offset as number | undefined) ?? 0;
      const length = Math.min((args.length as number | undefined) ?? READ_LIMIT, READ_LIMIT);
      const result = await ctx.actions.run({ ...base, kind: "read", path: String(args.path), summary: "read file", params: { offset, length, maxBytes: READ_LIMIT } }, options);
      const data = result.data as { content: Buffer; size: number; truncated: boolean } | undefined;
      if (!data || result.error) return outcome(tool, result);
      const binary = data.content.includes(0) || !isUtf8(data.content);
      const text = binary ? data.content.toString("base64") : data.content.toString("utf8");
      return { ...outcome(tool, result), content: { text, truncated: data.truncated, omittedBytes: 0, offset, size: data.size, encoding: binary ? "base64" : "utf8" } };
    }
    case "remote_write_file": {
      const path = String(args.path);
      const content = String(args.content);
      return write(tool, base, options, ctx, path, (current, lib) => ({ content, display: lib.createTwoFilesPatch(current === null ? "/dev/null" : path, path, current ?? "", content, "", "", { context: 3 }) }), args.mode as string | undefined);
    }
    case "remote_patch_file":
      return patch(tool, base, options, ctx, String(args.path), String(args.unified_diff));
    case "remote_list_dir": {
      const result = await ctx.actions.run({ ...base, kind: "list", path: String(args.path), recursive: Boolean(args.recursive), params: { limit: args.limit } }, options);
      const data = result.data as { entries: unknown[]; truncated: boolean } | undefined;
      return { ...outcome(tool, result), entries: data?.entries, truncated: data?.truncated };
    }
    case "remote_stat": {
      const result = await ctx.actions.run({ ...base, kind: "stat", path: String(args.path) }, options);
      return { ...outcome(tool, result), stat: result.data };
    }
    case "remote_find": {
      const result = await ctx.actions.run({ ...base, kind: "find", path: String(args.path), params: { pattern: args.pattern, limit: args.limit } }, options);
      const data = result.data as { entries: unknown[]; truncated: boolean } | undefined;
      return { ...outcome(tool, result), entries: data?.entries, truncated: data?.truncated };
    }
  }
}

type Base = { target: string; origin: Origin; actor: string; conversation?: string };
type Options = { approver?: Approver; preApproved?: boolean | string; signal?: AbortSignal };

/**
 * A write that knows what it replaces: the current file is read first (through the gate, so that
 * read is audited too) for the diff a person approves and for the precondition that it is still
 * the same file just before the rename.
 */
type DiffLib = typeof import("diff");

async function write(tool: ToolName, base: Base, options: Options, ctx: ToolContext, path: string, next: (current: string | null, lib: DiffLib) => { content: string; display: string } | { error: string }, mode?: string): Promise<ToolEnvelope> {
  const [current, lib] = await Promise.all([readCurrent(base, options, ctx, path), import("diff")]);
  if ("envelope" in current) return { ...current.envelope, tool };
  const planned = next(current.text, lib);
  if ("error" in planned) return { status: "failed", tool, server: base.target, error: { code: "E_PATCH_MISMATCH", message: planned.error } };
  const result = await ctx.actions.run(
    {
      ...base,
      kind: "write",
      path,
      summary: `write file (${Buffer.byteLength(planned.content)} bytes)`,
      display: planned.display,
      params: { content: planned.content, expectSha256: current.sha256, ...(mode ? { mode: Number.parseInt(mode, 8), forceMode: true } : {}) },
    },
    options,
  );
  const files = (result.data as { files?: { path: string; bytes: number; sha256: string }[] } | undefined)?.files;
  const snap = result.snapshots[0];
  return {
    ...outcome(tool, result),
    ...(files?.[0] ? { written: { path: files[0].path, bytes: files[0].bytes, sha256: files[0].sha256, snapshot: { before: snap?.before?.commit, after: snap?.after?.commit } } } : {}),
  };
}

async function patch(tool: ToolName, base: Base, options: Options, ctx: ToolContext, path: string, diff: string): Promise<ToolEnvelope> {
  const { parsePatch } = await import("diff");
  let parsed;
  try {
    parsed = parsePatch(diff);
  } catch (error) {
    return { status: "error", tool, server: base.target, error: { code: "E_PATCH_INVALID", message: `the unified diff cannot be parsed: ${(error as Error).message}` } };
  }
  if (parsed.length !== 1 || parsed[0].hunks.length === 0) {
    return { status: "error", tool, server: base.target, error: { code: "E_PATCH_INVALID", message: parsed.length > 1 ? "the diff changes more than one file; send one patch per file" : "the diff has no @@ hunks" } };
  }
  return write(tool, base, options, ctx, path, (current, lib) => {
    if (current === null) return { error: `${path} does not exist; create it with remote_write_file` };
    const result = lib.applyPatch(current, parsed[0], { fuzzFactor: 0 });
    if (result === false) return { error: `the patch does not apply to the current ${path} (its context lines differ); read the file again and make a new patch` };
    return { content: result, display: diff };
  });
}

/** The file as it is now: its text and sha256, or null when it does not exist. */
async function readCurrent(base: Base, options: Options, ctx: ToolContext, path: string): Promise<{ text: string | null; sha256: string | null } | { envelope: ToolEnvelope }> {
  const stat = await ctx.actions.run({ ...base, kind: "stat", path }, options);
  if (stat.error) return { envelope: outcome("remote_stat", stat) };
  if (!(stat.data as { exists?: boolean }).exists) return { text: null, sha256: null };
  const read = await ctx.actions.run({ ...base, kind: "read", path, summary: "read file (before a write)", params: { maxBytes: 4 * 1024 * 1024 } }, options);
  const data = read.data as { content: Buffer } | undefined;
  if (read.error || !data) return { envelope: outcome("remote_read_file", read) };
  return { text: data.content.toString("utf8"), sha256: createHash("sha256").update(data.content).digest("hex") };
}

/** The envelope of an action's result: ran (ok or failed with its exit code), denied, rejected, or an error. */
function outcome(tool: ToolName, result: ActionResult): ToolEnvelope {
  const common = { tool, server: result.action.server, ...(result.auditSeq !== undefined ? { auditSeq: result.auditSeq } : {}) };
  const e = result.error;
  if (e && !result.attempted) {
    const status = e.code === "E_POLICY_REJECT" || e.code === "E_NO_POLICY" ? "rejected" : e.code === "E_APPROVAL_DENIED" ? "denied" : "error";
    return { ...common, status, exitCode: null, error: { code: e.code, message: e.message, ...(result.verdict ? { rule: result.verdict.rule } : {}) } };
  }
  const code = exitCodeFor(result);
  return { ...common, status: code === 0 ? "ok" : "failed", exitCode: result.exitCode, ...(e ? { error: { code: e.code, message: e.message } } : {}) };
}

/** Collects a stream's first and last OUTPUT_LIMIT/2 bytes and counts the rest. */
function headTail(limit = OUTPUT_LIMIT): { add: (chunk: Buffer) => void; result: () => CappedText } {
  const half = Math.floor(limit / 2);
  let head = Buffer.alloc(0);
  let tail = Buffer.alloc(0);
  let total = 0;
  return {
    add(chunk) {
      total += chunk.length;
      if (head.length < half) {
        const take = chunk.subarray(0, half - head.length);
        head = Buffer.concat([head, take]);
        chunk = chunk.subarray(take.length);
      }
      if (chunk.length) tail = Buffer.concat([tail, chunk]).subarray(-half);
    },
    result() {
      if (total <= limit) return { text: Buffer.concat([head, tail]).toString("utf8"), truncated: false, omittedBytes: 0 };
      const omitted = total - head.length - tail.length;
      const h = head.toString("utf8").replace(/\uFFFD$/, "");
      const t = tail.toString("utf8").replace(/^\uFFFD/, "");
      return { text: `${h}\n[… ${omitted} bytes omitted …]\n${t}`, truncated: true, omittedBytes: omitted };
    },
  };
}

/** Keeps the head and the tail of long output (errors are usually at the end). */
export function cap(text: string, alreadyTruncated = false, limit = OUTPUT_LIMIT): CappedText {
  const bytes = Buffer.byteLength(text);
  if (bytes <= limit) return { text, truncated: alreadyTruncated, omittedBytes: 0 };
  const buf = Buffer.from(text);
  const head = buf.subarray(0, Math.floor(limit / 2)).toString("utf8").replace(/\uFFFD$/, "");
  const tail = buf.subarray(bytes - Math.floor(limit / 2)).toString("utf8").replace(/^\uFFFD/, "");
  const omitted = bytes - Buffer.byteLength(head) - Buffer.byteLength(tail);
  return { text: `${head}\n[… ${omitted} bytes omitted …]\n${tail}`, truncated: true, omittedBytes: omitted };
}

function redactEnvelope(envelope: ToolEnvelope, redact?: (text: string) => string): ToolEnvelope {
  if (!redact) return envelope;
  const r = (c?: CappedText) => (c ? { ...c, text: redact(c.text) } : c);
  return {
    ...envelope,
    stdout: r(envelope.stdout),
    stderr: r(envelope.stderr),
    content: envelope.content && (envelope.content.encoding === "utf8" ? { ...envelope.content, text: redact(envelope.content.text) } : envelope.content),
    error: envelope.error && { ...envelope.error, message: redact(envelope.error.message) },
    // File names and link targets can hold secrets too (a token in a path).
    entries: envelope.entries && deepRedact(envelope.entries, redact),
    stat: envelope.stat && deepRedact(envelope.stat, redact),
  };
}

function deepRedact<T>(value: T, redact: (text: string) => string): T {
  if (typeof value === "string") return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => deepRedact(v, redact)) as T;
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepRedact(v, redact)])) as T;
  return value;
}

function isUtf8(buf: Buffer): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(buf);
    return true;
  } catch {
    return false;
  }
}
