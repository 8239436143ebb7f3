/**
 * `opsterm servers list|show|add|rm|test|import-ssh-config`, `opsterm ssh`, `opsterm exec`.
 * Heavy modules (ssh2, yaml) are imported inside actions so `--help` stays fast.
 */
import { setMaxListeners } from "node:events";
import { defineCommand, exitCodeFor, type ActionResult, type ApprovalAnswer, type Approver, type CommandContext, type CommandSpec } from "../../src/kernel/index.ts";
import { ConfigError, EXIT, UsageError, workspaceWrite } from "../../src/kernel/index.ts";
import { formatBytes } from "../../src/lib/format.ts";
import { currentUser } from "../../src/lib/user.ts";
import type { ResolvedServer } from "./types.ts";

const lazy = {
  inventory: () => import("./inventory.ts"),
  settings: () => import("./settings.ts"),
  exec: () => import("./exec.ts"),
  connect: () => import("./connect.ts"),
};

function serverJson(s: ResolvedServer): Record<string, unknown> {
  return {
    id: s.id,
    host: s.host,
    port: s.port,
    user: s.user,
    key: s.key ?? null,
    proxy: s.proxy,
    via: s.via.map((h) => h.id),
    tags: s.tags,
    tier: s.tier ?? null,
    desc: s.desc ?? null,
    scope: s.scope,
    at: s.at,
    shadows: s.shadows ?? null,
  };
}

const list = defineCommand({
  name: "servers list",
  groupDescription: "Manage the server inventory (servers.yaml) and test logins",
  description: "List servers from servers.yaml (global and workspace), with scope and shadowing",
  usage: "[target]",
  examples: ["opsterm servers list", "opsterm servers list @prod --json"],
  async action(args, ctx) {
    const { inventoryFor, resolveTargets } = await lazy.settings();
    const inventory = await inventoryFor(ctx);
    const servers = args.target ? resolveTargets(inventory, String(args.target)) : inventory.servers;
    if (ctx.json) {
      for (const s of servers) ctx.io.out(JSON.stringify(serverJson(s)));
      return;
    }
    if (servers.length === 0) {
      ctx.io.out(`No servers yet. Files read: ${inventory.files.map((f) => f.path).join(", ")}`);
      ctx.io.out(`Add one: opsterm servers add web1 10.0.0.5 --user ubuntu   or: opsterm servers import-ssh-config`);
      return;
    }
    const s = ctx.io.style;
    const rows = servers.map((x) => [x.id, `${x.user}@${x.host}${x.port === 22 ? "" : `:${x.port}`}`, x.via.length ? `via ${x.via.map((h) => h.id).join(",")}` : "", x.tags.map((t) => "@" + t).join(" "), x.tier ?? "", x.scope + (x.shadows ? " (overrides global)" : "")]);
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows) ctx.io.out(r.map((c, i) => (i === 0 ? s.bold(c.padEnd(widths[i])) : i === 5 ? s.dim(c) : c.padEnd(widths[i]))).join("  ").trimEnd());
  },
});

const show = defineCommand({
  name: "servers show",
  description: "Show one server with its resolved jump chain and where it is defined",
  usage: "<id>",
  async action(args, ctx) {
    const { inventoryFor, resolveTargets } = await lazy.settings();
    const server = await ctx.use("inventory").resolveOne(String(args.id), { what: "servers show" });
    if (ctx.json) return void ctx.io.out(JSON.stringify(serverJson(server)));
    const s = ctx.io.style;
    ctx.io.out(s.bold(server.id) + (server.desc ? `  ${server.desc}` : ""));
    ctx.io.out(`  address  ${server.user}@${server.host}:${server.port}`);
    ctx.io.out(`  key      ${server.key ?? "(ssh-agent, then ~/.ssh/id_*)"}`);
    if (server.via.length) ctx.io.out(`  via      ${server.via.map((h) => `${h.id} (${h.user}@${h.host}:${h.port})`).join(" → ")}`);
    if (server.tags.length) ctx.io.out(`  tags     ${server.tags.join(", ")}`);
    if (server.tier) ctx.io.out(`  tier     ${server.tier}`);
    ctx.io.out(`  defined  ${server.scope} ${s.dim(server.at)}`);
    if (server.shadows) ctx.io.out(`  overrides ${server.shadows.scope} ${s.dim(server.shadows.at)}`);
  },
});

/** Edits one servers.yaml under its lock and validates the result before replacing it. */
export async function editServers(ctx: Pick<CommandContext, "paths" | "runtime" | "io">, workspace: boolean, edit: (doc: import("yaml").Document, servers: Record<string, unknown>) => void): Promise<string> {
  const [{ join }, { withLock }, { atomicWrite }, yamlFile, inv] = await Promise.all([import("node:path"), import("../../src/lib/lock.ts"), import("../../src/lib/atomic-write.ts"), import("../../src/lib/yaml-file.ts"), lazy.inventory()]);
  const target = workspace ? workspaceWrite(ctx.paths, ctx.runtime.cwd()) : undefined;
  const path = join(target?.dir ?? ctx.paths.configDir, "servers.yaml");
  await withLock(path, async () => {
    const YAML = await yamlFile.loadYaml();
    const existing = await yamlFile.readYamlFile(path, ConfigError);
    const doc = existing?.doc ?? new YAML.Document({ servers: {} });
    if (!doc.has("servers") || doc.get("servers") === null) doc.set("servers", doc.createNode({}));
    edit(doc, ((doc.toJS() as { servers?: Record<string, unknown> }).servers ?? {}) as Record<string, unknown>);
    const text = doc.toString();
    // Validate the new text (positions in the file that would be written) and the merged inventory.
    const parsed = await yamlFile.parseYamlText(path, text, ConfigError);
    const mine = inv.checkInventoryFile(workspace ? "workspace" : "global", path, parsed, "Nothing was written");
    const files = await Promise.all(inv.inventoryPaths(ctx.paths).filter((f) => f.path !== path).map((f) => inv.readInventoryFile(f.scope, f.path, f.pinned)));
    inv.buildInventory(workspace ? [...files, mine] : [mine, ...files], { defaultUser: "x", home: ctx.paths.home });
    await atomicWrite(path, text);
    const notice = await target?.written(path, text);
    if (notice) ctx.io.notice(notice);
  });
  return path;
}

const splitList = (v: unknown): string[] => String(v).split(",").map((s) => s.trim()).filter(Boolean);

const add = defineCommand({
  name: "servers add",
  description: "Add a server to servers.yaml (global, or the workspace's with --workspace)",
  usage: "<id> <host>",
  options: [
    { flags: "--user <user>", description: "Login user (default: the current user)" },
    { flags: "--port <port>", description: "SSH port (default 22)" },
    { flags: "--key <path>", description: "Private key file" },
    { flags: "--proxy <ids>", description: "Jump host id(s), comma-separated for a chain" },
    { flags: "--tags <tags>", description: "Comma-separated tags" },
    { flags: "--tier <tier>", description: "Policy tier, e.g. prod" },
    { flags: "--desc <text>", description: "Description" },
    { flags: "--workspace", description: "Write to .opsterm/servers.yaml of this project" },
    { flags: "--force", description: "Replace an existing entry with the same id" },
  ],
  examples: ["opsterm servers add web1 10.0.0.5 --user ubuntu --proxy bastion --tags web,prod --tier prod"],
  async action(args, ctx) {
    const id = String(args.id);
    const entry: Record<string, unknown> = { host: String(args.host) };
    if (args.user !== undefined) entry.user = String(args.user);
    if (args.port !== undefined) {
      const port = Number(args.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port must be 1-65535, got "${args.port}"`);
      entry.port = port;
    }
    if (args.key !== undefined) entry.key = String(args.key);
    if (args.proxy !== undefined) {
      const p = splitList(args.proxy);
      entry.proxy = p.length === 1 ? p[0] : p;
    }
    if (args.tags !== undefined) entry.tags = splitList(args.tags);
    if (args.tier !== undefined) entry.tier = String(args.tier);
    if (args.desc !== undefined) entry.desc = String(args.desc);
    const path = await editServers(ctx, Boolean(args.workspace), (doc, servers) => {
      if (id in servers && !args.force) throw new UsageError(`Server "${id}" already exists`, { code: "E_SERVER_EXISTS", hint: "Pass --force to replace it, or pick another id" });
      doc.setIn(["servers", id], doc.createNode(entry, { flow: true }));
    });
    if (ctx.json) ctx.io.out(JSON.stringify({ id, ...entry, file: path }));
    else ctx.io.out(`Added ${id} to ${path}`);
  },
});

const rm = defineCommand({
  name: "servers rm",
  description: "Remove a server from servers.yaml",
  usage: "<id>",
  options: [{ flags: "--workspace", description: "Remove from .opsterm/servers.yaml of this project" }],
  async action(args, ctx) {
    const id = String(args.id);
    const path = await editServers(ctx, Boolean(args.workspace), (doc, servers) => {
      if (!(id in servers)) throw new UsageError(`Server "${id}" is not in ${args.workspace ? "the workspace" : "the global"} servers.yaml`, { code: "E_SERVER_UNKNOWN", hint: '"opsterm servers list" shows each entry\'s scope' });
      doc.deleteIn(["servers", id]);
    });
    if (ctx.json) ctx.io.out(JSON.stringify({ id, removed: true, file: path }));
    else ctx.io.out(`Removed ${id} from ${path}`);
  },
});

const test = defineCommand({
  name: "servers test",
  description: "Connect and log in to servers (host key and credentials), without running anything",
  usage: "<target>",
  // The original OpsTerm's name for it.
  aliases: ["servers ping"],
  options: [{ flags: "--parallel <n>", description: "Servers at once" }],
  examples: ["opsterm servers test @prod"],
  async action(args, ctx) {
    const [{ inventoryFor, resolveTargets, sshSettings, connectOptions, announceShadows }, { connect }, { mapLimit }] = await Promise.all([lazy.settings(), lazy.connect(), lazy.exec()]);
    const servers = resolveTargets(await inventoryFor(ctx), String(args.target));
    announceShadows(ctx, servers);
    const settings = await sshSettings(ctx);
    const options = connectOptions(ctx, settings);
    const parallel = Number(args.parallel ?? settings.parallel);
    if (!Number.isInteger(parallel) || parallel < 1) throw new UsageError(`--parallel expects a positive whole number, got "${args.parallel}"`);
    allowListeners(ctx.signal, parallel);
    const results = await mapLimit(servers, parallel, async (server) => {
      const started = Date.now();
      try {
        const conn = await connect(server, options);
        conn.close();
        return { server: server.id, ok: true, ms: Date.now() - started };
      } catch (error) {
        const e = error as { code?: string; message: string; hint?: string };
        return { server: server.id, ok: false, ms: Date.now() - started, error: { code: e.code ?? "E_SSH_CONNECT", message: e.message }, hint: e.hint };
      }
    });
    const s = ctx.io.style;
    for (const r of results) {
      if (ctx.json) ctx.io.out(JSON.stringify(r));
      else ctx.io.out(r.ok ? `${s.green("ok")}    ${r.server}  ${s.dim(`${r.ms} ms`)}` : `${s.red("fail")}  ${r.server}  ${r.error!.message}${r.hint ? s.dim(`\n      ${r.hint}`) : ""}`);
    }
    return results.every((r) => r.ok) ? 0 : results.some((r) => r.error?.code.startsWith("E_HOSTKEY")) ? EXIT.DENIED : EXIT.UNAVAILABLE;
  },
});

const SERVER_FIELDS = ["host", "user", "port", "key", "proxy", "tags", "tier", "desc"] as const;

const edit = defineCommand({
  name: "servers edit",
  description: "Change fields of a server in servers.yaml (the others stay as they are)",
  usage: "<id>",
  options: [
    { flags: "--host <host>", description: "Host name or address" },
    { flags: "--user <user>", description: "Login user" },
    { flags: "--port <port>", description: "SSH port" },
    { flags: "--key <path>", description: "Private key file" },
    { flags: "--proxy <ids>", description: "Jump host id(s), comma-separated for a chain" },
    { flags: "--tags <tags>", description: "Comma-separated tags" },
    { flags: "--tier <tier>", description: "Policy tier, e.g. prod" },
    { flags: "--desc <text>", description: "Description" },
    { flags: "--unset <fields>", description: `Remove fields, comma-separated (${SERVER_FIELDS.filter((f) => f !== "host").join(", ")})` },
    { flags: "--workspace", description: "Edit .opsterm/servers.yaml of this project" },
  ],
  examples: ["opsterm servers edit web1 --host 10.0.0.7 --port 2222", "opsterm servers edit db1 --unset proxy,key"],
  async action(args, ctx) {
    const id = String(args.id);
    const changes: Record<string, unknown> = {};
    if (args.host !== undefined) changes.host = String(args.host);
    if (args.user !== undefined) changes.user = String(args.user);
    if (args.port !== undefined) {
      const port = Number(args.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port must be 1-65535, got "${args.port}"`);
      changes.port = port;
    }
    if (args.key !== undefined) changes.key = String(args.key);
    if (args.proxy !== undefined) {
      const p = splitList(args.proxy);
      changes.proxy = p.length === 1 ? p[0] : p;
    }
    if (args.tags !== undefined) changes.tags = splitList(args.tags);
    if (args.tier !== undefined) changes.tier = String(args.tier);
    if (args.desc !== undefined) changes.desc = String(args.desc);
    const unset = args.unset === undefined ? [] : splitList(args.unset);
    for (const f of unset) {
      if (f === "host" || !(SERVER_FIELDS as readonly string[]).includes(f)) throw new UsageError(`--unset: "${f}" is not a field that can be removed`, { hint: `Fields: ${SERVER_FIELDS.filter((x) => x !== "host").join(", ")}` });
      if (f in changes) throw new UsageError(`--unset ${f} and --${f} contradict each other`);
    }
    if (Object.keys(changes).length === 0 && unset.length === 0) throw new UsageError("servers edit: nothing to change", { hint: `Give a field, e.g. opsterm servers edit ${id} --host 10.0.0.7` });
    const path = await editServers(ctx, Boolean(args.workspace), (doc, servers) => {
      if (!(id in servers)) throw new UsageError(`Server "${id}" is not in ${args.workspace ? "the workspace" : "the global"} servers.yaml`, { code: "E_SERVER_UNKNOWN", hint: '"opsterm servers list" shows each entry\'s scope' });
      for (const [field, value] of Object.entries(changes)) doc.setIn(["servers", id, field], Array.isArray(value) ? doc.createNode(value, { flow: true }) : value);
      for (const field of unset) doc.deleteIn(["servers", id, field]);
    });
    if (ctx.json) ctx.io.out(JSON.stringify({ id, changed: Object.keys(changes), unset, file: path }));
    else ctx.io.out(`Updated ${id} in ${path}`);
  },
});

const rename = defineCommand({
  name: "servers rename",
  description: "Give a server a new id (proxy: entries naming it follow)",
  usage: "<old> <new>",
  options: [{ flags: "--workspace", description: "Rename in .opsterm/servers.yaml of this project" }],
  examples: ["opsterm servers rename vps-utama vps-prod"],
  async action(args, ctx) {
    const from = String(args.old);
    const to = String(args.new);
    const followed: string[] = [];
    const path = await editServers(ctx, Boolean(args.workspace), (doc, servers) => {
      if (!(from in servers)) throw new UsageError(`Server "${from}" is not in ${args.workspace ? "the workspace" : "the global"} servers.yaml`, { code: "E_SERVER_UNKNOWN", hint: '"opsterm servers list" shows each entry\'s scope' });
      if (to in servers) throw new UsageError(`Server "${to}" already exists`, { code: "E_SERVER_EXISTS", hint: "Pick another id, or remove that one first" });
      const map = doc.get("servers") as import("yaml").YAMLMap;
      const pair = map.items.find((p) => String((p.key as { value?: unknown })?.value ?? p.key) === from)!;
      pair.key = doc.createNode(to);
      for (const [id, raw] of Object.entries(servers)) {
        const proxy = (raw as { proxy?: unknown }).proxy;
        if (proxy === from) {
          doc.setIn(["servers", id === from ? to : id, "proxy"], to);
          followed.push(id);
        } else if (Array.isArray(proxy) && proxy.includes(from)) {
          doc.setIn(["servers", id === from ? to : id, "proxy"], doc.createNode(proxy.map((p) => (p === from ? to : p)), { flow: true }));
          followed.push(id);
        } else if (typeof proxy === "string" && proxy.split(",").map((p) => p.trim()).includes(from)) {
          doc.setIn(["servers", id === from ? to : id, "proxy"], proxy.split(",").map((p) => (p.trim() === from ? to : p.trim())).join(","));
          followed.push(id);
        }
      }
    });
    if (ctx.json) ctx.io.out(JSON.stringify({ from, to, proxiesUpdated: followed, file: path }));
    else ctx.io.out(`Renamed ${from} to ${to} in ${path}${followed.length ? ` (proxy of ${followed.join(", ")} updated)` : ""}`);
  },
});

const importSshConfig = defineCommand({
  name: "servers import-ssh-config",
  description: "Import Host entries from ~/.ssh/config (HostName, User, Port, IdentityFile, ProxyJump; Include followed)",
  options: [
    { flags: "--file <path>", description: "ssh config to read (default ~/.ssh/config)" },
    { flags: "--workspace", description: "Write to .opsterm/servers.yaml of this project" },
    { flags: "--force", description: "Replace entries that already exist" },
    { flags: "--dry-run", description: "Show what would be imported, write nothing" },
  ],
  examples: ["opsterm servers import-ssh-config", "opsterm servers import-ssh-config --file ./ssh_config --dry-run"],
  async action(args, ctx) {
    const [{ join, resolve }, cfg] = await Promise.all([import("node:path"), import("./ssh-config.ts")]);
    const file = args.file ? resolve(ctx.runtime.cwd(), String(args.file)) : join(ctx.paths.home, ".ssh", "config");
    const found = cfg.serversFromSshConfig(cfg.parseSshConfig(file, ctx.paths.home), { home: ctx.paths.home, localUser: currentUser(ctx.env) });
    const added: string[] = [];
    const skipped: string[] = [];
    const write = async (doc: import("yaml").Document | undefined, servers: Record<string, unknown>) => {
      for (const { id, ...entry } of found) {
        if (id in servers && !args.force) {
          skipped.push(id);
          continue;
        }
        added.push(id);
        doc?.setIn(["servers", id], doc.createNode(entry, { flow: true }));
      }
    };
    let path = "";
    if (args.dryRun) {
      const { inventoryFor } = await lazy.settings();
      const inv = await inventoryFor(ctx);
      await write(undefined, Object.fromEntries(inv.servers.filter((s) => s.scope === (args.workspace ? "workspace" : "global")).map((s) => [s.id, s])));
    } else path = await editServers(ctx, Boolean(args.workspace), (doc, servers) => void write(doc, servers));
    if (ctx.json) {
      ctx.io.out(JSON.stringify({ file, target: path || null, dryRun: Boolean(args.dryRun), added, skipped, servers: found.filter((f) => added.includes(f.id)) }));
      return;
    }
    if (found.length === 0) return void ctx.io.out(`No concrete Host entries in ${file} (wildcard-only blocks are skipped)`);
    ctx.io.out(`${args.dryRun ? "Would import" : "Imported"} ${added.length} server(s) from ${file}${path ? ` into ${path}` : ""}${added.length ? `: ${added.join(", ")}` : ""}`);
    if (skipped.length) ctx.io.out(`Skipped ${skipped.length} that already exist (use --force to replace): ${skipped.join(", ")}`);
  },
});

const ssh = defineCommand({
  name: "ssh",
  description: "Open an interactive SSH session (system ssh, jump chain from the inventory), recorded in the audit log",
  usage: "<server>",
  options: [
    { flags: "--via <ids>", description: "Jump hosts (inventory ids, comma-separated) instead of the inventory's proxy" },
    { flags: "-y, --yes", description: "Approve the session in advance when the policy asks for approval (a denied session never opens)" },
  ],
  examples: ["opsterm ssh web1", "opsterm ssh db1 --via bastion,inner", "echo uptime | opsterm ssh web1 --yes"],
  async action(args, ctx) {
    const { parseVia } = await import("../../src/lib/args.ts");
    const via = parseVia(args.via);
    // Resolved here for the error a person expects ("matches 3 servers; ssh needs exactly one").
    const server = await ctx.use("inventory").resolveOne(String(args.server), { via, what: "ssh" });
    // One action through the gate (DESIGN.md §5): policy (session rules, tiers) → approval →
    // audit intent (session-start) → ssh → audit result (session-end). Fails closed like exec.
    const result = await ctx.actions.run(
      { kind: "session", target: server.id, via, command: `ssh ${server.user}@${server.host}`, interactive: ctx.io.isTTY.stdin && ctx.io.isTTY.stdout },
      { preApproved: Boolean(args.yes) },
    );
    if (result.error) {
      const s = ctx.io.errStyle;
      ctx.io.err(`${s.red("opsterm:")} ${server.id}: ${result.error.message}`);
      if (!result.attempted) ctx.io.err(s.dim(`  hint: ${result.error.code.startsWith("E_AUDIT_") ? "fix the audit log (opsterm audit verify, opsterm doctor); no session opens without its record" : "no session was opened"}`));
    }
    return exitCodeFor(result);
  },
});

const exec = defineCommand({
  name: "exec",
  description: "Run a command on one or many servers, through policy, approval and audit",
  usage: "<target> [...command]",
  options: [
    { flags: "-y, --yes", description: "Approve approval-required commands in advance (rejected ones never run)" },
    { flags: "-p, --parallel <n>", description: "Hosts at once for a fan-out (default: ssh.parallel or 32)" },
    { flags: "-t, --timeout <seconds>", description: "Deadline for the command on each host" },
    { flags: "--connect-timeout <seconds>", description: "Deadline to connect and log in, per hop (default: ssh.connectTimeout or 10)" },
    { flags: "--max-output <bytes>", description: "Output kept per host and stream (default 1 MiB for one host, 256 KiB each for many)" },
    { flags: "--stdin", description: "Fan-out: send this process's stdin to every host (one host always gets what is piped in)" },
  ],
  examples: [
    "opsterm exec web1 -- uptime",
    "opsterm exec @web --parallel 50 -- systemctl is-active nginx",
    "opsterm exec 'web*' --json -- uname -n",
    "pg_dump app | opsterm exec db2 --yes -- 'psql app'",
  ],
  async action(args, ctx) {
    const words = [...(args.command as string[] | undefined ?? []), ...args["--"]];
    if (words.length === 0) throw new UsageError("No command given", { hint: 'Put the command after "--": opsterm exec web1 -- uptime' });
    const command = words.join(" ");
    const [{ sshSettings }, ex, stdinInfo] = await Promise.all([lazy.settings(), lazy.exec(), import("../../src/lib/stdin.ts")]);
    const servers = await ctx.use("inventory").resolveTargets(String(args.target));
    const settings = await sshSettings(ctx);
    const { parseSeconds } = await import("../../src/lib/args.ts");
    const timeoutMs = args.timeout !== undefined ? parseSeconds(args.timeout, "--timeout") : undefined;
    const connectTimeoutMs = args.connectTimeout !== undefined ? parseSeconds(args.connectTimeout, "--connect-timeout") : undefined;
    const parallel = args.parallel !== undefined ? Number(args.parallel) : settings.parallel;
    if (!Number.isInteger(parallel) || parallel < 1) throw new UsageError(`--parallel expects a positive whole number, got "${args.parallel}"`);
    const maxCapture = args.maxOutput !== undefined ? Number(args.maxOutput) : servers.length === 1 ? 1024 * 1024 : 256 * 1024;
    const request = (server: ResolvedServer) => ({ kind: "exec" as const, target: server.id, command, params: connectTimeoutMs ? { connectTimeoutMs } : {} });
    const forward = !ctx.io.isTTY.stdin;

    if (servers.length === 1) {
      const streaming = !ctx.json;
      const result = await ctx.actions.run(request(servers[0]), {
        preApproved: Boolean(args.yes),
        io: {
          timeoutMs,
          maxCapture,
          // Like `ssh host cmd`: what is piped into opsterm reaches the remote command.
          stdin: forward ? ctx.io.stdin : undefined,
          onStdout: streaming ? writeTo(ctx.io.stdout) : undefined,
          onStderr: streaming ? writeTo(ctx.io.stderr) : undefined,
        },
      });
      const code = exitCodeFor(result);
      if (ctx.json) ctx.io.out(JSON.stringify(resultJson(result, code)));
      else reportProblem(ctx, result);
      return code;
    }

    // A fan-out cannot split one input between hosts: sending it to all is a choice to make.
    let shared: Uint8Array | undefined;
    if (args.stdin === true) shared = await stdinInfo.readAll(ctx.io.stdin, 64 * 1024 * 1024);
    else if (forward && stdinInfo.hasPipedInput()) {
      throw new UsageError(`Input is piped into a fan-out over ${servers.length} hosts`, {
        code: "E_FANOUT_STDIN",
        hint: "Pass --stdin to send the same input to every host, or redirect stdin from /dev/null",
      });
    }
    allowListeners(ctx.signal, parallel);
    const progress = !ctx.json && ctx.io.isTTY.stderr ? createProgress(ctx, servers.length) : undefined;
    // Fan-out: one approval question for the whole set (when a person is there to answer).
    let asked: Promise<ApprovalAnswer> | undefined;
    const approver: Approver | undefined = ctx.prompt.interactive && !args.yes
      ? {
          approve: ({ verdict }) =>
            (asked ??= (async () => {
              if (progress) ctx.io.stderr.write("\r\x1b[K"); // the question starts on a clean line
              ctx.io.err(`${ctx.io.errStyle.yellow("approval required")} ${ctx.io.errStyle.dim(verdict.rule + ":")} ${verdict.reason}`);
              ctx.io.err(`command: ${command}`);
              ctx.io.err(`hosts (${servers.length}): ${servers.map((s) => s.id).join(", ")}`);
              const yes = await ctx.prompt.confirm(`Run it on all ${servers.length} hosts?`, { default: false, what: "This fan-out" });
              return yes ? { approved: true, approver: `tty:${currentUser(ctx.env)}` } : { approved: false, by: "user", message: "Not approved at the prompt" };
            })()),
        }
      : undefined;
    const results = await ex.mapLimit(servers, parallel, async (server) => {
      progress?.start();
      // Output past the per-host cap is not kept: it streams as "host: line" (not with --json).
      const overflow = createOverflow(ctx, server.id, maxCapture, progress);
      const r = await ctx.actions.run(request(server), {
        preApproved: Boolean(args.yes),
        approver,
        io: { timeoutMs, maxCapture, stdin: shared, onStdout: (c) => overflow.add("stdout", c), onStderr: (c) => overflow.add("stderr", c) },
      });
      overflow.end();
      const code = exitCodeFor(r);
      progress?.done(code === 0);
      if (ctx.json) ctx.io.out(JSON.stringify({ ...resultJson(r, code), bytes: overflow.bytes }));
      return { result: r, code, bytes: overflow.bytes };
    });
    progress?.clear();
    if (!ctx.json) printSummary(ctx, results, maxCapture);
    return ex.fanoutExitCode(results.map((r) => r.code));
  },
});

/** Writes to a stream and, when its buffer is full, hands back a promise that settles on drain. */
function writeTo(stream: NodeJS.WriteStream): (chunk: Buffer) => void | Promise<void> {
  return (chunk) => {
    if (stream.write(chunk)) return;
    return new Promise<void>((resolve) => {
      const done = () => {
        stream.off("drain", done);
        stream.off("close", done);
        stream.off("error", done);
        resolve();
      };
      stream.on("drain", done);
      stream.on("close", done);
      stream.on("error", done);
    });
  };
}

/**
 * Every connection in flight listens on the invocation's abort signal (a few listeners each), so a
 * fan-out passes Node's default of 10 and would print a MaxListenersExceededWarning.
 */
function allowListeners(signal: AbortSignal, parallel: number): void {
  setMaxListeners(Math.max(10, parallel * 4 + 10), signal);
}

function resultJson(r: ActionResult, code: number): Record<string, unknown> {
  return {
    server: r.action.server,
    exitCode: r.exitCode,
    signal: (r.details.signal as string | undefined) ?? null,
    status: code,
    stdout: r.stdout ?? "",
    stderr: r.stderr ?? "",
    truncated: r.truncated ?? { stdout: false, stderr: false },
    durationMs: r.durationMs,
    decision: r.verdict?.decision ?? null,
    rule: r.verdict?.rule ?? null,
    approver: r.approver ?? null,
    attempted: r.attempted,
    auditStatus: r.auditStatus,
    auditSeq: r.auditSeq ?? null,
    error: r.error ? { code: r.error.code, message: r.error.message } : null,
  };
}

function reportProblem(ctx: CommandContext, r: ActionResult): void {
  const s = ctx.io.errStyle;
  if (r.truncated?.stdout || r.truncated?.stderr) ctx.io.err(s.dim(`opsterm: ${r.action.server}: output beyond the capture limit was streamed but not kept for history`));
  if (!r.error) return;
  ctx.io.err(`${s.red("opsterm:")} ${r.action.server}: ${r.error.message}`);
  if (r.error.hint) ctx.io.err(s.dim(`  hint: ${r.error.hint}`));
  else if (r.error.code === "E_APPROVAL_DENIED" || r.error.code === "E_POLICY_REJECT") ctx.io.err(s.dim(`  nothing was run on ${r.action.server}`));
}

type Progress = ReturnType<typeof createProgress>;

/**
 * Per-host output beyond `cap` bytes (per stream): counted, and in text mode written to stdout /
 * stderr as it arrives, each line prefixed with the host id (pdsh style), so nothing is lost while
 * memory stays bounded. The first `cap` bytes are kept by exec() for the grouped summary.
 */
function createOverflow(ctx: CommandContext, id: string, cap: number, progress: Progress | undefined) {
  const bytes = { stdout: 0, stderr: 0 };
  const partial = { stdout: "", stderr: "" };
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  const emit = (which: "stdout" | "stderr", text: string) => {
    const lines = (partial[which] + text).split("\n");
    partial[which] = lines.pop() ?? "";
    if (lines.length === 0) return;
    const out = lines.map((l) => `${id}: ${l}\n`).join("");
    const write = () => void ctx.io[which].write(out);
    if (progress) progress.pause(write);
    else write();
  };
  return {
    bytes,
    add(which: "stdout" | "stderr", chunk: Buffer) {
      const before = bytes[which];
      bytes[which] += chunk.length;
      if (ctx.json || bytes[which] <= cap) return;
      emit(which, decoders[which].decode(before >= cap ? chunk : chunk.subarray(cap - before), { stream: true }));
    },
    end() {
      for (const which of ["stdout", "stderr"] as const) {
        if (ctx.json || bytes[which] <= cap) continue;
        emit(which, decoders[which].decode() + (partial[which] ? "\n" : ""));
      }
    },
  };
}

function createProgress(ctx: CommandContext, total: number) {
  let running = 0;
  let ok = 0;
  let failed = 0;
  const draw = () => void ctx.io.stderr.write(`\r\x1b[K[${ok + failed}/${total}] ${ok} ok, ${failed} failed, ${running} running`);
  return {
    /** Clears the progress line, runs `write`, draws it again. */
    pause(write: () => void) {
      ctx.io.stderr.write("\r\x1b[K");
      write();
      draw();
    },
    start() {
      running++;
      draw();
    },
    done(success: boolean) {
      running--;
      if (success) ok++;
      else failed++;
      draw();
    },
    clear: () => void ctx.io.stderr.write("\r\x1b[K"),
  };
}

function printSummary(ctx: CommandContext, results: { result: ActionResult; code: number; bytes: { stdout: number; stderr: number } }[], cap: number): void {
  const s = ctx.io.style;
  const ran = results.filter((r) => r.result.attempted && r.result.exitCode !== null);
  const problems = results.filter((r) => !(r.result.attempted && r.result.exitCode !== null));
  const groups = groupBy(ran.map((r) => ({ server: r.result.action.server, exitCode: r.result.exitCode, output: joinOutput(r.result.stdout ?? "", r.result.stderr ?? ""), truncated: Boolean(r.result.truncated?.stdout || r.result.truncated?.stderr) })));
  for (const g of groups) {
    ctx.io.out(s.dim("----------------"));
    const notice = g.truncated ? s.yellow(` (output truncated: first ${formatBytes(cap)} per stream kept here, the rest was streamed above as "<host>: …")`) : "";
    ctx.io.out(`${s.bold(g.servers.join(","))} ${g.exitCode === 0 ? s.green("(exit 0)") : s.red(`(exit ${g.exitCode})`)}${notice}`);
    ctx.io.out(s.dim("----------------"));
    if (g.output) ctx.io.stdout.write(g.output.endsWith("\n") ? g.output : g.output + "\n");
  }
  for (const p of problems) {
    ctx.io.out(`${s.red("fail")} ${s.bold(p.result.action.server)}: ${p.result.error?.message ?? "exit status unknown"}${p.result.error?.hint ? s.dim(` (${p.result.error.hint})`) : ""}`);
  }
  const okCount = results.filter((r) => r.code === 0).length;
  ctx.io.err(`${results.length} hosts: ${okCount} ok, ${ran.filter((r) => r.code !== 0).length} failed, ${problems.length} not run or status unknown`);
}

/** stdout then stderr, on separate lines even when stdout does not end with a newline. */
function joinOutput(out: string, err: string): string {
  return out + (out && err && !out.endsWith("\n") ? "\n" : "") + err;
}


function groupBy(items: { server: string; exitCode: number | null; output: string; truncated: boolean }[]) {
  const groups = new Map<string, { servers: string[]; exitCode: number | null; output: string; truncated: boolean }>();
  for (const r of items) {
    const key = `${r.exitCode}\u0000${r.output}`;
    const g = groups.get(key);
    if (g) {
      g.servers.push(r.server);
      g.truncated ||= r.truncated;
    } else groups.set(key, { servers: [r.server], exitCode: r.exitCode, output: r.output, truncated: r.truncated });
  }
  return [...groups.values()];
}

export const sshCommands: CommandSpec[] = [list, show, add, edit, rename, rm, test, importSshConfig, ssh, exec];
