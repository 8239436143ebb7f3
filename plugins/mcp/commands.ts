/**
 * `opsterm mcp [serve]`, `opsterm mcp install claude|codex|opencode`, and
 * `opsterm approvals list|approve|deny`. The MCP SDK is imported only by `mcp serve`.
 */
import { defineCommand, UsageError, type CommandContext, type CommandSpec } from "../../src/kernel/index.ts";
import { currentUser } from "../../src/lib/user.ts";

/** Seconds an approval-required call waits for `opsterm approvals approve` (config `mcp.approvalTimeout`). */
export const DEFAULT_APPROVAL_TIMEOUT_SEC = 120;

export async function approvalTimeoutSec(ctx: CommandContext): Promise<number> {
  const value = (await ctx.config()).get("mcp.approvalTimeout");
  return typeof value === "number" ? value : DEFAULT_APPROVAL_TIMEOUT_SEC;
}

const serve = defineCommand({
  name: "mcp serve",
  groupDescription: "MCP server on stdio: opsterm's remote tools for Claude Code, Codex, opencode, with opsterm's policy, approvals and audit",
  groupDefault: true,
  description: "Run the MCP server on stdin/stdout (what the client starts; `opsterm mcp` alone does the same)",
  examples: ["opsterm mcp", "opsterm mcp install claude", "opsterm approvals list"],
  async action(_args, ctx) {
    if (ctx.io.isTTY.stdin && ctx.io.isTTY.stdout) {
      ctx.io.err("opsterm mcp speaks MCP on stdin/stdout: an MCP client starts it. Set it up with: opsterm mcp install claude|codex|opencode (Ctrl-C to stop)");
    }
    // The SDK loads while the config is read.
    const [timeout, { serve: run }] = await Promise.all([approvalTimeoutSec(ctx), import("./server.ts")]);
    return run(ctx, { approvalTimeoutMs: timeout * 1000 });
  },
});

const install = defineCommand({
  name: "mcp install",
  description: "Add opsterm to an MCP client's config (its own file and format; the rest of the file is kept)",
  usage: "<client>",
  complete: ["claude", "codex", "opencode"],
  options: [
    { flags: "--print", description: "Print the entry instead of writing the file" },
    { flags: "--scope <scope>", description: "claude: user (~/.claude.json, default), project (./.mcp.json) or local; opencode: user (default) or project (./opencode.json)", choices: ["user", "project", "local"] },
    { flags: "--bin <path>", description: "The opsterm binary the client starts (default: this one)" },
    { flags: "--json", description: "Print what was done as JSON" },
  ],
  examples: ["opsterm mcp install claude", "opsterm mcp install claude --scope project", "opsterm mcp install codex --print", "opsterm mcp install opencode"],
  async action(args, ctx) {
    const { CLIENTS, planInstall, writeInstall } = await import("./install.ts");
    const client = String(args.client);
    if (!(CLIENTS as readonly string[]).includes(client)) {
      throw new UsageError(`Unknown MCP client "${client}"`, { code: "E_MCP_CLIENT", hint: `The clients: ${CLIENTS.join(", ")}` });
    }
    const scope = args.scope === undefined ? "user" : String(args.scope);
    if (scope !== "user" && scope !== "project" && scope !== "local") throw new UsageError(`--scope must be user, project or local, got "${scope}"`, { code: "E_MCP_INSTALL_SCOPE" });
    const plan = await planInstall({
      client: client as (typeof CLIENTS)[number],
      scope,
      binary: await binaryPath(ctx, args.bin === undefined ? undefined : String(args.bin)),
      approvalTimeoutSec: await approvalTimeoutSec(ctx),
      home: ctx.env.HOME || ctx.paths.home,
      cwd: ctx.runtime.cwd(),
      env: ctx.env,
    });
    if (args.print) {
      if (ctx.json) ctx.io.out(JSON.stringify({ client: plan.client, path: plan.path, entry: plan.entry }));
      else ctx.io.stdout.write(plan.entry.endsWith("\n") ? plan.entry : plan.entry + "\n");
      return;
    }
    await writeInstall(plan);
    if (ctx.json) return void ctx.io.out(JSON.stringify({ client: plan.client, scope: plan.scope, path: plan.path, created: plan.created, replaced: plan.replaced }));
    ctx.io.out(`${plan.replaced ? "Updated" : "Added"} the opsterm MCP server in ${plan.path}${plan.created ? " (new file)" : ""}`);
    ctx.io.out(ctx.io.style.dim(`Approve its calls from a terminal: opsterm approvals list, opsterm approvals approve ID`));
  },
});

/** The absolute path of the binary a client should start. */
async function binaryPath(ctx: CommandContext, given: string | undefined): Promise<string> {
  const [{ isAbsolute, resolve }, { existsSync, realpathSync }, { isSingleExecutable }] = await Promise.all([import("node:path"), import("node:fs"), import("../../src/kernel/runtime.ts")]);
  if (given !== undefined) {
    const path = isAbsolute(given) ? given : resolve(ctx.runtime.cwd(), given);
    if (!existsSync(path)) throw new UsageError(`--bin ${given}: no such file`, { code: "E_MCP_BINARY" });
    return path;
  }
  if (!isSingleExecutable()) {
    throw new UsageError("This opsterm runs from source, not as the built binary, so there is no binary path to give the client", {
      code: "E_MCP_BINARY",
      hint: "Pass the binary: opsterm mcp install <client> --bin /path/to/opsterm",
    });
  }
  return realpathSync(ctx.runtime.execPath);
}

const list = defineCommand({
  name: "approvals list",
  groupDescription: "Approve or deny what MCP clients ask to run (from your own terminal)",
  groupDefault: true,
  description: "Pending approvals (and recent answers), oldest first",
  options: [
    { flags: "--all", description: "Also answered and expired entries of the last day" },
    { flags: "--json", description: "Print a JSON array" },
  ],
  examples: ["opsterm approvals list", "opsterm approvals list --json | jq -r '.[].id'"],
  async action(args, ctx) {
    const { ApprovalQueue } = await import("./approvals.ts");
    const entries = new ApprovalQueue(ctx.paths.dataDir).list().filter((e) => args.all || e.state === "pending");
    // JSON lines (README "Machine-readable output"): one pending approval per line.
    if (ctx.json) return void entries.forEach(({ hash: _hash, ...e }) => ctx.io.out(JSON.stringify(e)));
    if (entries.length === 0) return void ctx.io.err(args.all ? "No approvals in the last day." : "Nothing waits for approval.");
    const s = ctx.io.style;
    for (const e of entries) {
      const left = Math.max(0, Math.round((Date.parse(e.expires) - Date.now()) / 1000));
      const state = e.state === "pending" ? s.yellow(`pending ${Math.floor(left / 60)}m${String(left % 60).padStart(2, "0")}s left`) : e.state === "denied" || e.state === "expired" ? s.red(e.state) : s.green(e.state);
      ctx.io.out(`${s.bold(e.id)}  ${state}  ${e.server}  ${e.tool}  ${s.dim(`${e.actor}, ${e.rule}`)}`);
      for (const line of e.display.split("\n").slice(0, 20)) ctx.io.out(`    ${line}`);
    }
    if (entries.some((e) => e.state === "pending")) ctx.io.err(s.dim("Approve: opsterm approvals approve ID   Deny: opsterm approvals deny ID"));
  },
});

function decision(kind: "approved" | "denied"): CommandSpec {
  return defineCommand({
    name: kind === "approved" ? "approvals approve" : "approvals deny",
    description: kind === "approved" ? "Let a waiting MCP call run (once, with exactly the arguments shown)" : "Refuse a waiting MCP call",
    usage: "<id>",
    options: [...(kind === "denied" ? [{ flags: "--reason <text>", description: "Told to the client" }] : []), { flags: "--json", description: "Print the entry as JSON" }],
    examples: [kind === "approved" ? "opsterm approvals approve 3f9a1c02" : "opsterm approvals deny 3f9a1c02 --reason 'not during business hours'"],
    async action(args, ctx) {
      const { ApprovalQueue } = await import("./approvals.ts");
      const reason = args.reason === undefined ? undefined : String(args.reason);
      const entry = await new ApprovalQueue(ctx.paths.dataDir).decide(String(args.id), kind, currentUser(ctx.env), reason);
      if (ctx.json) return void ctx.io.out(JSON.stringify((({ hash: _hash, ...e }) => e)(entry)));
      ctx.io.out(`${kind === "approved" ? "Approved" : "Denied"} ${entry.id}: ${entry.server} ${entry.tool} ${ctx.io.style.dim(entry.display.split("\n")[0])}`);
    },
  });
}

export const mcpCommands: CommandSpec[] = [serve, install, list, decision("approved"), decision("denied")];
