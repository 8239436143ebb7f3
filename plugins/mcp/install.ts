/**
 * `opsterm mcp install claude|codex|opencode`: the client's own config entry for `opsterm mcp`,
 * in that client's format, merged into its file with everything else in the file kept:
 *
 * - Claude Code: `mcpServers.opsterm` ({ type: "stdio", command, args, env }) in `~/.claude.json`
 *   (user scope, as `claude mcp add --scope user`), `.mcp.json` in the current directory
 *   (project scope) or `~/.claude.json`'s `projects[<cwd>]` (local scope).
 * - Codex: `[mcp_servers.opsterm]` in `$CODEX_HOME/config.toml` (default `~/.codex`), with
 *   `tool_timeout_sec` above the approval wait (Codex's default, 60 s, would cut it off). The
 *   table is replaced as text, so comments and layout of the rest of the file stay as they are.
 * - opencode: `mcp.opsterm` ({ type: "local", command: [...], enabled, timeout }) in
 *   `~/.config/opencode/opencode.json` (user) or `./opencode.json` (project); a file in the V2
 *   layout (`mcp.servers`) gets the entry there.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { DataError, UsageError } from "../../src/kernel/index.ts";
import { atomicWrite } from "../../src/lib/atomic-write.ts";
import { readBoundedText } from "../../src/lib/bounded-read.ts";

export const CLIENTS = ["claude", "codex", "opencode"] as const;
export type Client = (typeof CLIENTS)[number];
export type InstallScope = "user" | "project" | "local";

export const SERVER_NAME = "opsterm";
/** Client config files can be large (~/.claude.json keeps per-project state). */
const MAX_CONFIG_BYTES = 32 * 1024 * 1024;

export interface InstallInput {
  client: Client;
  scope: InstallScope;
  /** Absolute path of the opsterm binary. */
  binary: string;
  /** Seconds a call may wait for approval (the client's tool timeout must be longer). */
  approvalTimeoutSec: number;
  home: string;
  cwd: string;
  env: Record<string, string | undefined>;
}

export interface InstallPlan {
  client: Client;
  scope: InstallScope;
  path: string;
  /** The entry alone, in the file's format (what --print shows). */
  entry: string;
  /** The whole file after the change. */
  content: string;
  /** The file held an opsterm entry already (it is replaced). */
  replaced: boolean;
  created: boolean;
}

/** The client's tool timeout: the approval wait plus time for the command itself. */
export function toolTimeoutSec(approvalTimeoutSec: number): number {
  return approvalTimeoutSec + 60;
}

export function configPath(input: Pick<InstallInput, "client" | "scope" | "home" | "cwd" | "env">): string {
  const { client, scope, home, cwd, env } = input;
  switch (client) {
    case "claude":
      return scope === "project" ? join(cwd, ".mcp.json") : join(home, ".claude.json");
    case "codex":
      if (scope !== "user") throw new UsageError("Codex keeps MCP servers in its user config only here: use --scope user", { code: "E_MCP_INSTALL_SCOPE" });
      return join(env.CODEX_HOME || join(home, ".codex"), "config.toml");
    case "opencode":
      if (scope === "local") throw new UsageError("opencode has user and project configs: use --scope user or --scope project", { code: "E_MCP_INSTALL_SCOPE" });
      return scope === "project" ? join(cwd, "opencode.json") : join(env.XDG_CONFIG_HOME || join(home, ".config"), "opencode", "opencode.json");
  }
}

export async function planInstall(input: InstallInput): Promise<InstallPlan> {
  const path = configPath(input);
  const existing = readConfig(path);
  const base = { client: input.client, scope: input.scope, path, created: existing === undefined };
  if (input.client === "codex") return { ...base, ...(await planToml(existing ?? "", input, path)) };
  const data = parseJson(existing, path);
  return { ...base, ...(input.client === "claude" ? planClaude(data, input) : planOpencode(data, input)) };
}

export async function writeInstall(plan: InstallPlan): Promise<void> {
  // The client's file keeps its mode when it exists; a new one is private (it may later hold tokens).
  const mode = existsSync(plan.path) ? statSync(plan.path).mode & 0o777 : 0o600;
  await atomicWrite(plan.path, plan.content, { mode, dirMode: 0o700 });
}

function readConfig(path: string): string | undefined {
  return readBoundedText(path, { maxBytes: MAX_CONFIG_BYTES, what: "client config files" });
}

function parseJson(text: string | undefined, path: string): Record<string, unknown> {
  if (text === undefined || text.trim() === "") return {};
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new DataError("E_MCP_INSTALL_PARSE", `${path} is not plain JSON (${(error as Error).message}); it was not changed`, {
      hint: "Fix the file, or add the entry yourself: opsterm mcp install <client> --print shows it",
    });
  }
  if (!isObject(data)) throw new DataError("E_MCP_INSTALL_PARSE", `${path} does not hold a JSON object; it was not changed`);
  return data;
}

function claudeEntry(input: InstallInput): Record<string, unknown> {
  return { type: "stdio", command: input.binary, args: ["mcp"], env: {} };
}

function planClaude(data: Record<string, unknown>, input: InstallInput): Pick<InstallPlan, "entry" | "content" | "replaced"> {
  const entry = claudeEntry(input);
  let holder: Record<string, unknown> = data;
  if (input.scope === "local") {
    const projects = objectAt(data, "projects", "projects");
    holder = objectAt(projects, input.cwd, `projects["${input.cwd}"]`);
  }
  const servers = objectAt(holder, "mcpServers", "mcpServers");
  const replaced = SERVER_NAME in servers;
  servers[SERVER_NAME] = entry;
  return { entry: JSON.stringify({ mcpServers: { [SERVER_NAME]: entry } }, null, 2), content: JSON.stringify(data, null, 2) + "\n", replaced };
}

function planOpencode(data: Record<string, unknown>, input: InstallInput): Pick<InstallPlan, "entry" | "content" | "replaced"> {
  if (Object.keys(data).length === 0) data.$schema = "https://opencode.ai/config.json";
  const mcp = objectAt(data, "mcp", "mcp");
  const v2 = isObject(mcp.servers);
  const timeout = toolTimeoutSec(input.approvalTimeoutSec) * 1000;
  const entry: Record<string, unknown> = v2
    ? { type: "local", command: [input.binary, "mcp"], timeout }
    : { type: "local", command: [input.binary, "mcp"], enabled: true, timeout };
  const servers = v2 ? (mcp.servers as Record<string, unknown>) : mcp;
  const replaced = SERVER_NAME in servers;
  servers[SERVER_NAME] = entry;
  const shown = v2 ? { mcp: { servers: { [SERVER_NAME]: entry } } } : { mcp: { [SERVER_NAME]: entry } };
  return { entry: JSON.stringify(shown, null, 2), content: JSON.stringify(data, null, 2) + "\n", replaced };
}

/** `[mcp_servers.opsterm]` and its subtables, replaced as text; the rest of the file is untouched. */
async function planToml(text: string, input: InstallInput, path: string): Promise<Pick<InstallPlan, "entry" | "content" | "replaced">> {
  const { parse } = await import("smol-toml");
  let before: Record<string, unknown>;
  try {
    before = parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new DataError("E_MCP_INSTALL_PARSE", `${path} is not valid TOML (${(error as Error).message.split("\n")[0]}); it was not changed`, {
      hint: "Fix the file, or add the entry yourself: opsterm mcp install codex --print shows it",
    });
  }
  const entry = [
    `[mcp_servers.${SERVER_NAME}]`,
    `command = ${JSON.stringify(input.binary)}`,
    `args = ["mcp"]`,
    `startup_timeout_sec = 20`,
    `tool_timeout_sec = ${toolTimeoutSec(input.approvalTimeoutSec)}`,
  ].join("\n");
  const lines = text.split("\n");
  const header = /^\s*\[\s*mcp_servers\s*\.\s*("opsterm"|'opsterm'|opsterm)\s*(\.[^\]]*)?\]\s*(#.*)?$/;
  const anyHeader = /^\s*\[\[?[^\]]+\]\]?\s*(#.*)?$/;
  const kept: string[] = [];
  let skipping = false;
  let removed = false;
  for (const line of lines) {
    if (header.test(line)) {
      skipping = true;
      removed = true;
      continue;
    }
    if (skipping && anyHeader.test(line)) skipping = false;
    if (!skipping) kept.push(line);
  }
  const hadEntry = isObject(before.mcp_servers) && SERVER_NAME in before.mcp_servers;
  if (hadEntry && !removed) {
    throw new DataError("E_MCP_INSTALL_PARSE", `${path} defines mcp_servers.${SERVER_NAME} inline, not as a [mcp_servers.${SERVER_NAME}] table; it was not changed`, {
      hint: `Remove that definition, then run the install again`,
    });
  }
  while (kept.length && kept.at(-1)!.trim() === "") kept.pop();
  const content = `${kept.length ? kept.join("\n") + "\n\n" : ""}${entry}\n`;
  // The result must parse and hold exactly the new entry, with every other key as it was.
  const after = parse(content) as Record<string, unknown>;
  const servers = after.mcp_servers as Record<string, unknown> | undefined;
  if (!servers || !isObject(servers[SERVER_NAME]) || (servers[SERVER_NAME] as Record<string, unknown>).command !== input.binary) {
    throw new DataError("E_MCP_INSTALL_PARSE", `Could not place [mcp_servers.${SERVER_NAME}] in ${path}; it was not changed`);
  }
  return { entry: entry + "\n", content, replaced: hadEntry };
}

function objectAt(parent: Record<string, unknown>, key: string, where: string): Record<string, unknown> {
  const value = parent[key];
  if (value === undefined) return (parent[key] = {}) as Record<string, unknown>;
  if (!isObject(value)) throw new DataError("E_MCP_INSTALL_PARSE", `"${where}" in the client's config is not an object; it was not changed`);
  return value;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
