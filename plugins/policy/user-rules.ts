/**
 * User rules from policy.yaml (global config dir, then the trusted workspace's .opsterm/): allow /
 * ask / deny lists of argv prefixes, per tier and per server. Validated strictly; an invalid file
 * makes the whole policy deny everything, naming file:line:col. A workspace may only make the
 * policy stricter: its `allow` rules and `session: allow` are ignored (listed in `ignored`).
 */
import { existsSync } from "node:fs";
import { ConfigError } from "../../src/kernel/errors.ts";
import type { StateFile } from "../../src/kernel/index.ts";
import { validate, type SchemaNode } from "../../src/lib/schema.ts";
import { locate, readYamlFile, schemaError, type YamlFile } from "../../src/lib/yaml-file.ts";
import { strictArgv } from "./strict.ts";

export type RuleKind = "allow" | "ask" | "deny";
export type SessionMode = "allow" | "ask" | "deny";

export interface UserRule {
  kind: RuleKind;
  /** argv prefix to match. */
  prefix: string[];
  /** Stable id, e.g. `user.deny[0]` or `user.tiers.prod.ask[1]`. */
  id: string;
  /** file:line:col of the rule. */
  at: string;
  tier?: string;
  server?: string;
}

export interface UserRules {
  rules: UserRule[];
  session: { mode: SessionMode; id: string; at: string; tier?: string; server?: string }[];
  files: string[];
  /** Set when a file is invalid: every classification is then a reject with this message. */
  invalid?: string;
  /** Workspace rules that would have relaxed the policy, which were left out. */
  ignored: { id: string; at: string }[];
}

/** A rule file: a path (global scope) or a state file with its scope and pinned hash. */
export type RuleFile = string | StateFile;

const RULE: SchemaNode = { type: "oneOf", of: [{ type: "string" }, { type: "array", items: { type: "string" } }] };
const LISTS: Record<string, SchemaNode> = {
  allow: { type: "array", items: RULE, description: "argv prefixes lifted from approval-required to auto-allow (single plain commands only)" },
  ask: { type: "array", items: RULE, description: "argv prefixes that always need approval" },
  deny: { type: "array", items: RULE, description: "argv prefixes that are always rejected" },
  session: { type: "string", enum: ["allow", "ask", "deny"], description: "interactive sessions: allow, ask (default) or deny" },
};
const SCOPE: SchemaNode = { type: "object", properties: LISTS };
export const POLICY_SCHEMA: SchemaNode = {
  type: "object",
  properties: {
    version: { type: "number", integer: true, min: 1, max: 1 },
    ...LISTS,
    tiers: { type: "object", additional: SCOPE },
    servers: { type: "object", additional: SCOPE },
  },
};

export const EMPTY_RULES: UserRules = { rules: [], session: [], files: [], ignored: [] };

/** Reads and validates the rule files that exist. Never throws for a bad file: see `invalid`. */
export async function loadUserRules(sources: RuleFile[]): Promise<UserRules> {
  const result: UserRules = { rules: [], session: [], files: [], ignored: [] };
  for (const source of sources) {
    const { path, scope, pinned } = typeof source === "string" ? { path: source, scope: "global", pinned: undefined } : source;
    // A trusted workspace file that disappeared is a change, not an absence: read it to fail.
    if (!existsSync(path) && !pinned) continue;
    result.files.push(path);
    try {
      const file = await readYamlFile(path, ConfigError, { pinned });
      if (!file) continue;
      collect(file, result, scope === "workspace");
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { ...result, invalid: message.split("\n")[0] + (message.includes("\n") ? ` (and ${message.split("\n").length - 1} more)` : "") };
    }
  }
  return result;
}

function collect(file: YamlFile, out: UserRules, workspace: boolean): void {
  const data = file.data ?? {};
  const issues = validate(data, POLICY_SCHEMA);
  const ruleIssues: { path: (string | number)[]; message: string }[] = [];
  const scopes: { path: string[]; value: Record<string, unknown>; tier?: string; server?: string }[] = [];
  if (issues.length === 0) {
    const root = data as Record<string, unknown>;
    scopes.push({ path: [], value: root });
    for (const [tier, v] of Object.entries((root.tiers as Record<string, Record<string, unknown>>) ?? {})) scopes.push({ path: ["tiers", tier], value: v ?? {}, tier });
    for (const [server, v] of Object.entries((root.servers as Record<string, Record<string, unknown>>) ?? {})) scopes.push({ path: ["servers", server], value: v ?? {}, server });
    for (const scope of scopes) {
      for (const kind of ["allow", "ask", "deny"] as const) {
        const list = (scope.value[kind] as (string | string[])[] | undefined) ?? [];
        list.forEach((entry, i) => {
          const path = [...scope.path, kind, i];
          const prefix = typeof entry === "string" ? strictArgv(entry) : entry;
          if (!prefix || prefix.length === 0 || prefix.some((w) => w === "")) {
            ruleIssues.push({ path, message: `rule ${JSON.stringify(entry)} is not a plain command prefix (write words, or a list of words)` });
            return;
          }
          const rule: UserRule = { kind, prefix, id: `user.${[...scope.path, kind].join(".")}[${i}]`, at: locate(file, path), tier: scope.tier, server: scope.server };
          // A workspace may add approval or rejection, never lift it.
          if (workspace && kind === "allow") out.ignored.push({ id: rule.id, at: rule.at });
          else out.rules.push(rule);
        });
      }
      const mode = scope.value.session as SessionMode | undefined;
      const session = mode && { mode, id: `user.${[...scope.path, "session"].join(".")}`, at: locate(file, [...scope.path, "session"]), tier: scope.tier, server: scope.server };
      if (session && workspace && mode === "allow") out.ignored.push({ id: session.id, at: session.at });
      else if (session) out.session.push(session);
    }
  }
  const all = [...issues, ...ruleIssues];
  if (all.length) throw schemaError(file, all, ConfigError, "Fix policy.yaml (see \"opsterm help policy\"); until then every command is rejected");
}

/** Rules (or session rules) whose tier and server scope include the target. */
export function applicable<T extends { tier?: string; server?: string }>(rules: T[], server?: string, tier?: string): T[] {
  return rules.filter((r) => (r.tier === undefined || r.tier === tier) && (r.server === undefined || r.server === server));
}

/**
 * True when `argv` starts with `prefix`. For deny/ask (`loose`) the program also matches by
 * basename and the other words may have options in between (`systemctl -q restart x` matches
 * "systemctl restart"): those rules only ever make a verdict stricter.
 */
export function matchesPrefix(prefix: string[], argv: string[], loose: boolean): boolean {
  if (argv.length < prefix.length) return false;
  if (loose) {
    const a0 = argv[0];
    const p0 = prefix[0];
    if (a0 !== p0 && (p0.includes("/") || a0.slice(a0.lastIndexOf("/") + 1) !== p0)) return false;
    let k = 1;
    for (let i = 1; i < argv.length && k < prefix.length; i++) if (argv[i] === prefix[k]) k++;
    return k === prefix.length;
  }
  return prefix.every((p, i) => argv[i] === p);
}
