/**
 * `opsterm mcp` as an MCP client sees it: the official SDK's Client + StdioClientTransport spawn
 * the BUILT binary (dist/opsterm mcp) against a real sshd. Tool list snapshot, auto-allowed and
 * rejected calls (checked in the audit log), approvals answered from a second process, a wait
 * that ends with the id, cancellation of a remote command, invalid params, one SSH connection
 * for 100 calls, and stdout carrying nothing but protocol.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseEnv, binaryPath, bundlePath, opstermAsync, requireBuilt } from "../helpers/binary.ts";
import { startSshd, writeOpstermHome, type OpstermHome, type SshdHandle } from "../helpers/sshd.ts";

let sshd: SshdHandle;
/** approvalTimeout 60 s: a call waits for a person. */
let slow: OpstermHome;
/** approvalTimeout 1 s: a call gives up and returns the approval id. */
let quick: OpstermHome;

const POLICY = ["allow:", "  - sleep", "deny:", "  - touch"].join("\n") + "\n";

beforeAll(async () => {
  requireBuilt();
  sshd = await startSshd();
  const servers = { web1: sshd.server({ tags: ["web"] }) };
  slow = writeOpstermHome({ servers, knownHosts: [sshd.knownHostsLine()], config: { mcp: { approvalTimeout: 60 } } });
  quick = writeOpstermHome({ servers, knownHosts: [sshd.knownHostsLine()], config: { mcp: { approvalTimeout: 1 } } });
  for (const h of [slow, quick]) writeFileSync(join(h.home, "policy.yaml"), POLICY, { mode: 0o600 });
});

afterAll(async () => {
  await sshd?.stop();
  slow?.cleanup();
  quick?.cleanup();
});

interface Session {
  client: Client;
  transport: StdioClientTransport;
  stderr: () => string;
  close(): Promise<void>;
}

async function connect(home: OpstermHome, name = "vitest-client"): Promise<Session> {
  const transport = new StdioClientTransport({ command: binaryPath, args: ["mcp"], env: { ...baseEnv(home.home), ...home.env }, stderr: "pipe", cwd: home.home });
  let err = "";
  transport.stderr?.on("data", (c: Buffer) => (err += c.toString()));
  const client = new Client({ name, version: "1.0.0" });
  await client.connect(transport);
  return { client, transport, stderr: () => err, close: () => client.close() };
}

type ToolResult = { isError?: boolean; content: { type: string; text?: string }[]; structuredContent?: Record<string, unknown> };
const envelopeOf = (r: ToolResult) => JSON.parse(r.content.at(-1)!.text!) as Record<string, any>;

async function audit(home: OpstermHome): Promise<Record<string, any>[]> {
  const r = await opstermAsync(["audit", "log", "--json", "--limit", "10000"], { home: home.home, env: home.env });
  expect(r.code, r.stderr).toBe(0);
  // One record per line (the --json rule for lists).
  return r.stdout.split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

const accepted = () => (sshd.logs().match(/Accepted publickey/g) ?? []).length;

// Each test spawns the binary and runs remote calls with fsynced audit records: slow at load 15+.
describe("opsterm mcp (SDK client, real sshd)", { timeout: 120_000 }, () => {
  it("tools/list matches the checked-in snapshot; the server names itself", async () => {
    const s = await connect(slow);
    try {
      expect(s.client.getServerVersion()?.name).toBe("opsterm");
      expect(s.client.getServerCapabilities()?.tools).toBeDefined();
      const { tools } = await s.client.listTools();
      await expect(JSON.stringify(tools, null, 2) + "\n").toMatchFileSnapshot("__snapshots__/mcp-tools.json");
      const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
      expect(byName.remote_stat.annotations).toMatchObject({ readOnlyHint: true, openWorldHint: false });
      expect(byName.remote_exec.annotations).toMatchObject({ destructiveHint: true, idempotentHint: false });
      expect(byName.remote_write_file.annotations).toMatchObject({ destructiveHint: true, idempotentHint: true });
    } finally {
      await s.close();
    }
  });

  it("an auto-allowed remote_exec returns the remote output, audited as mcp:<client>", async () => {
    const s = await connect(slow, "claude-code");
    try {
      const r = (await s.client.callTool({ name: "remote_exec", arguments: { server: "web1", command: "echo mcp-hello-42" } })) as ToolResult;
      expect(r.isError).toBeFalsy();
      const env = envelopeOf(r);
      expect(env).toMatchObject({ status: "ok", exitCode: 0, server: "web1" });
      expect(env.stdout.text).toBe("mcp-hello-42\n");
      expect(r.structuredContent).toMatchObject({ status: "ok" });
      const records = (await audit(slow)).filter((x) => x.args?.command === "echo mcp-hello-42");
      expect(records.map((x) => x.phase)).toEqual(["intent", "result"]);
      expect(records[0].actor).toBe("mcp:claude-code");
      expect(records[0].args.conversation).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await s.close();
    }
  });

  it("a rejected call is an isError result naming the rule, and nothing ran", async () => {
    const marker = join(slow.home, "rejected-marker");
    const s = await connect(slow);
    try {
      const r = (await s.client.callTool({ name: "remote_exec", arguments: { server: "web1", command: `touch ${marker}` } })) as ToolResult;
      expect(r.isError).toBe(true);
      expect(r.content[0].text).toMatch(/Refused by opsterm's policy \(rule user\.deny\[0\]\)/);
      expect(envelopeOf(r)).toMatchObject({ status: "rejected", error: { code: "E_POLICY_REJECT", rule: "user.deny[0]" } });
      expect(existsSync(marker)).toBe(false);
      const records = (await audit(slow)).filter((x) => x.args?.command === `touch ${marker}`);
      expect(records.map((x) => `${x.action}/${x.phase}/${x.decision}`)).toEqual(["approval/event/reject"]);
    } finally {
      await s.close();
    }
  });

  it("pending → approved from a second process → the call completes; the approval is used once", async () => {
    const marker = join(slow.home, "approved-marker");
    const s = await connect(slow);
    try {
      const progress: { progress: number; message?: string }[] = [];
      const call = s.client.callTool({ name: "remote_exec", arguments: { server: "web1", command: `mkdir ${marker} && echo made` } }, undefined, { onprogress: (p) => void progress.push(p), timeout: 60_000 }) as Promise<ToolResult>;
      let id: string | undefined;
      for (let i = 0; i < 100 && !id; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const list = await opstermAsync(["approvals", "list", "--json"], { home: slow.home, env: slow.env });
        id = (list.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l)) as { id: string; display: string }[]).find((e) => e.display.includes(marker))?.id;
      }
      expect(id).toMatch(/^[0-9a-f]{8}$/);
      expect(existsSync(marker)).toBe(false);
      const approve = await opstermAsync(["approvals", "approve", id!], { home: slow.home, env: slow.env });
      expect(approve.code, approve.stderr).toBe(0);
      const r = await call;
      expect(r.isError).toBeFalsy();
      expect(envelopeOf(r).stdout.text).toBe("made\n");
      expect(existsSync(marker)).toBe(true);
      expect(progress.length).toBeGreaterThan(0);
      expect(progress[0].message).toContain(`opsterm approvals approve ${id}`);
      const records = (await audit(slow)).filter((x) => x.args?.command === `mkdir ${marker} && echo made`);
      expect(records.find((x) => x.phase === "intent")?.approver).toMatch(/^approvals:/);
      const again = await opstermAsync(["approvals", "approve", id!], { home: slow.home, env: slow.env });
      expect(again.code).toBe(65);
      expect(again.stderr).toContain("E_APPROVAL_DECIDED");
    } finally {
      await s.close();
    }
  });

  it("remote_write_file waits for approval showing its diff, then writes and snapshots", async () => {
    const path = join(slow.home, "app.conf");
    writeFileSync(path, "port=80\n");
    const s = await connect(slow);
    try {
      const call = s.client.callTool({ name: "remote_write_file", arguments: { server: "web1", path, content: "port=8080\n" } }) as Promise<ToolResult>;
      let entry: { id: string; display: string; tool: string } | undefined;
      for (let i = 0; i < 100 && !entry; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const list = await opstermAsync(["approvals", "list", "--json"], { home: slow.home, env: slow.env });
        entry = (list.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l)) as { id: string; display: string; tool: string }[]).find((e) => e.tool === "remote_write_file");
      }
      expect(entry!.display).toContain("-port=80");
      expect(entry!.display).toContain("+port=8080");
      expect(readFileSync(path, "utf8")).toBe("port=80\n");
      expect((await opstermAsync(["approvals", "approve", entry!.id], { home: slow.home, env: slow.env })).code).toBe(0);
      const r = await call;
      expect(r.isError, JSON.stringify(r)).toBeFalsy();
      expect(envelopeOf(r).written).toMatchObject({ path, bytes: 10, snapshot: { before: expect.any(String), after: expect.any(String) } });
      expect(readFileSync(path, "utf8")).toBe("port=8080\n");
    } finally {
      await s.close();
    }
  });

  it("a denied call is isError and nothing ran", async () => {
    const marker = join(slow.home, "denied-marker");
    const s = await connect(slow);
    try {
      const call = s.client.callTool({ name: "remote_exec", arguments: { server: "web1", command: `mkdir ${marker}` } }) as Promise<ToolResult>;
      let id: string | undefined;
      for (let i = 0; i < 100 && !id; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const list = await opstermAsync(["approvals", "list", "--json"], { home: slow.home, env: slow.env });
        id = (list.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l)) as { id: string; display: string }[]).find((e) => e.display.includes(marker))?.id;
      }
      const deny = await opstermAsync(["approvals", "deny", id!, "--reason", "not today"], { home: slow.home, env: slow.env });
      expect(deny.code, deny.stderr).toBe(0);
      const r = await call;
      expect(r.isError).toBe(true);
      expect(r.content[0].text).toContain(`denied approval ${id}: not today`);
      expect(existsSync(marker)).toBe(false);
    } finally {
      await s.close();
    }
  });

  it("pending → the wait ends → isError with the id and the exact command; approving then repeating the call runs it", async () => {
    const marker = join(quick.home, "later-marker");
    const args = { server: "web1", command: `mkdir ${marker}` };
    const s = await connect(quick);
    try {
      const r = (await s.client.callTool({ name: "remote_exec", arguments: args })) as ToolResult;
      expect(r.isError).toBe(true);
      const env = envelopeOf(r);
      expect(env.error.code).toBe("E_APPROVAL_PENDING");
      const id = env.approval.id as string;
      expect(env.approval.command).toBe(`opsterm approvals approve ${id}`);
      expect(r.content[0].text).toContain(`"opsterm approvals approve ${id}"`);
      expect(existsSync(marker)).toBe(false);
      const queue = join(quick.home, "approvals.json");
      expect(readFileSync(queue, "utf8")).toContain(id);
      expect((await import("node:fs")).statSync(queue).mode & 0o777).toBe(0o600);
      // Different arguments are a different entry; the same arguments find this one.
      const approve = await opstermAsync(["approvals", "approve", id], { home: quick.home, env: quick.env });
      expect(approve.code, approve.stderr).toBe(0);
      const other = (await s.client.callTool({ name: "remote_exec", arguments: { ...args, command: `${args.command}-other` } })) as ToolResult;
      expect(envelopeOf(other).approval.id).not.toBe(id);
      const retry = (await s.client.callTool({ name: "remote_exec", arguments: args })) as ToolResult;
      expect(retry.isError).toBeFalsy();
      expect(existsSync(marker)).toBe(true);
    } finally {
      await s.close();
    }
  });

  it("cancellation from the client stops a remote sleep; its audit result says it did not finish", async () => {
    // policy.yaml here allows `sleep`; remote_exec runs with killOnAbort: the cancel kills the
    // remote process group (a second exec on the pooled connection), not only the channel.
    const s = await connect(slow);
    const command = "sleep 31.25";
    const running = () => {
      try {
        return execFileSync("pgrep", ["-f", `^${command}$`], { encoding: "utf8" }).trim() !== "";
      } catch {
        return false;
      }
    };
    try {
      const ac = new AbortController();
      const call = s.client.callTool({ name: "remote_exec", arguments: { server: "web1", command } }, undefined, { signal: ac.signal });
      const outcome = call.then(
        () => "resolved",
        (e: Error) => e,
      );
      for (let i = 0; i < 100 && !running(); i++) await new Promise((r) => setTimeout(r, 100));
      expect(running()).toBe(true);
      ac.abort("test cancels");
      expect(await outcome).toBeInstanceOf(Error);
      let stopped = false;
      for (let i = 0; i < 100 && !stopped; i++) {
        await new Promise((r) => setTimeout(r, 100));
        stopped = !running();
      }
      expect(stopped).toBe(true);
      await expect.poll(() => s.stderr(), { timeout: 5000 }).toContain("remote_exec cancelled by the client");
      await expect.poll(async () => (await audit(slow)).filter((x) => x.args?.command === command).map((x) => `${x.phase}:${x.exitCode}`), { timeout: 5000 }).toEqual(["intent:undefined", "result:null"]);
    } finally {
      await s.close();
    }
  });

  it("bad arguments and unknown tools give the SDK's invalid-params error", async () => {
    const s = await connect(slow);
    try {
      const bad = await s.client.callTool({ name: "remote_exec", arguments: { server: "web1" } }).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(McpError);
      expect((bad as McpError).code).toBe(ErrorCode.InvalidParams);
      expect((bad as McpError).message).toContain("command is required");
      const extra = await s.client.callTool({ name: "remote_stat", arguments: { server: "web1", path: "/", sudo: true } }).catch((e: unknown) => e);
      expect((extra as McpError).code).toBe(ErrorCode.InvalidParams);
      const unknown = await s.client.callTool({ name: "rm_everything", arguments: {} }).catch((e: unknown) => e);
      expect((unknown as McpError).code).toBe(ErrorCode.InvalidParams);
    } finally {
      await s.close();
    }
  });

  it("100 sequential calls to one host use one SSH connection", async () => {
    const s = await connect(slow);
    try {
      const before = accepted();
      for (let i = 0; i < 100; i++) {
        const r = (await s.client.callTool({ name: i % 2 ? "remote_stat" : "remote_exec", arguments: i % 2 ? { server: "web1", path: "/" } : { server: "web1", command: `echo ${i}` } })) as ToolResult;
        expect(r.isError, JSON.stringify(r)).toBeFalsy();
      }
      expect(accepted() - before).toBe(1);
    } finally {
      await s.close();
    }
    // 100 round trips with two fsynced audit records each: minutes on a machine at load 15+.
  }, 300_000);

  it("a damaged servers.yaml is an isError result with its code, and the server keeps serving", async () => {
    const broken = writeOpstermHome({ serversYaml: "servers:\n  web1: [unclosed\n" });
    const s = await connect(broken);
    try {
      const r = (await s.client.callTool({ name: "list_servers", arguments: {} })) as ToolResult;
      expect(r.isError).toBe(true);
      expect(envelopeOf(r).error.code).toMatch(/^E_/);
      expect(envelopeOf(r).error.code).not.toBe("E_INTERNAL");
      expect((await s.client.listTools()).tools.length).toBeGreaterThanOrEqual(8);
    } finally {
      await s.close();
      broken.cleanup();
    }
  });

  it("the SDK lives in its own bundle (an SEA asset), not in the main script every command parses", () => {
    const main = readFileSync(bundlePath, "utf8");
    const sdk = readFileSync(join(dirname(bundlePath), "mcp-sdk.cjs"), "utf8");
    // Code markers, not words: the embedded guides (opsterm help mcp) mention notifications/cancelled in prose.
    for (const marker of ['method:"notifications/cancelled"', "_zod"]) {
      expect(sdk).toContain(marker);
      expect(main).not.toContain(marker);
    }
    // ajv is stubbed out: opsterm passes its own jsonSchemaValidator and sends no elicitation.
    expect(sdk).not.toMatch(/ajv\.js\.org|strictSchema/);
  });

  it("stdout carries only JSON-RPC messages, and a closed stdin ends the server with 0", () => {
    const input = [
      { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "list_servers", arguments: {} } },
    ]
      .map((m) => JSON.stringify(m))
      .join("\n");
    const out = execFileSync(binaryPath, ["mcp"], { input: input + "\n", env: { ...baseEnv(slow.home), ...slow.env }, encoding: "utf8", timeout: 20_000 });
    const lines = out.trim().split("\n");
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(JSON.parse(line).jsonrpc).toBe("2.0");
    expect(JSON.parse(lines[1]).result.structuredContent.servers[0]).toMatchObject({ id: "web1", tags: ["web"] });
  });
});

describe("opsterm mcp install", { timeout: 60_000 }, () => {
  const run = (home: string, ...args: string[]) => opstermAsync(["mcp", "install", ...args], { home, env: { HOME: home, OPSTERM_HOME: join(home, ".opsterm-home"), NO_COLOR: "1" } });

  it("claude: ~/.claude.json and .mcp.json keep their other keys and parse as JSON", async () => {
    const h = writeOpstermHome();
    try {
      writeFileSync(join(h.home, ".claude.json"), JSON.stringify({ numStartups: 3, mcpServers: { other: { type: "stdio", command: "x" } }, projects: { "/p": { allowedTools: [] } } }));
      const r = await run(h.home, "claude");
      expect(r.code, r.stderr).toBe(0);
      const data = JSON.parse(readFileSync(join(h.home, ".claude.json"), "utf8"));
      expect(data).toMatchObject({ numStartups: 3, mcpServers: { other: { command: "x" }, opsterm: { type: "stdio", command: binaryPath, args: ["mcp"], env: {} } }, projects: { "/p": { allowedTools: [] } } });
      const project = await opstermAsync(["mcp", "install", "claude", "--scope", "project"], { home: h.home, cwd: h.home, env: { HOME: h.home, NO_COLOR: "1" } });
      expect(project.code, project.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(h.home, ".mcp.json"), "utf8"))).toEqual({ mcpServers: { opsterm: { type: "stdio", command: binaryPath, args: ["mcp"], env: {} } } });
    } finally {
      h.cleanup();
    }
  });

  it("codex: [mcp_servers.opsterm] with tool_timeout_sec above the approval wait; comments and other tables kept; re-install replaces", async () => {
    const { parse } = await import("smol-toml");
    const h = writeOpstermHome();
    try {
      const path = join(h.home, ".codex", "config.toml");
      (await import("node:fs")).mkdirSync(join(h.home, ".codex"));
      writeFileSync(path, '# my settings\nmodel = "o3"\n\n[mcp_servers.other]\ncommand = "x"\n\n[mcp_servers.opsterm]\ncommand = "/old/opsterm"\n\n[mcp_servers.opsterm.env]\nA = "1"\n\n[profiles.fast]\nmodel = "o4-mini"\n');
      for (let i = 0; i < 2; i++) {
        const r = await run(h.home, "codex");
        expect(r.code, r.stderr).toBe(0);
      }
      const text = readFileSync(path, "utf8");
      expect(text).toContain("# my settings");
      const data = parse(text) as Record<string, any>;
      expect(data.model).toBe("o3");
      expect(data.profiles.fast.model).toBe("o4-mini");
      expect(data.mcp_servers.other.command).toBe("x");
      expect(data.mcp_servers.opsterm).toEqual({ command: binaryPath, args: ["mcp"], startup_timeout_sec: 20, tool_timeout_sec: 180 });
      expect(data.mcp_servers.opsterm.tool_timeout_sec).toBeGreaterThanOrEqual(120);
      expect(text.match(/\[mcp_servers\.opsterm\]/g)).toHaveLength(1);
    } finally {
      h.cleanup();
    }
  });

  it("opencode: the mcp block in opencode.json (V1 layout, or V2's mcp.servers); --print writes nothing", async () => {
    const h = writeOpstermHome();
    try {
      const dir = join(h.home, ".config", "opencode");
      (await import("node:fs")).mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "opencode.json"), JSON.stringify({ $schema: "https://opencode.ai/config.json", theme: "dark", mcp: { other: { type: "remote", url: "https://x" } } }));
      const r = await run(h.home, "opencode");
      expect(r.code, r.stderr).toBe(0);
      const data = JSON.parse(readFileSync(join(dir, "opencode.json"), "utf8"));
      expect(data).toMatchObject({ theme: "dark", mcp: { other: { type: "remote" }, opsterm: { type: "local", command: [binaryPath, "mcp"], enabled: true } } });
      expect(data.mcp.opsterm.timeout).toBeGreaterThanOrEqual(120_000);
      const printed = await opstermAsync(["mcp", "install", "opencode", "--scope", "project", "--print"], { home: h.home, cwd: h.home, env: { HOME: h.home, NO_COLOR: "1" } });
      expect(printed.code, printed.stderr).toBe(0);
      expect(JSON.parse(printed.stdout).mcp.opsterm.command).toEqual([binaryPath, "mcp"]);
      expect(existsSync(join(h.home, "opencode.json"))).toBe(false);
      writeFileSync(join(h.home, "opencode.json"), JSON.stringify({ mcp: { servers: { a: { type: "local", command: ["a"] } } } }));
      const v2 = await opstermAsync(["mcp", "install", "opencode", "--scope", "project"], { home: h.home, cwd: h.home, env: { HOME: h.home, NO_COLOR: "1" } });
      expect(v2.code, v2.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(h.home, "opencode.json"), "utf8")).mcp.servers.opsterm).toMatchObject({ type: "local", command: [binaryPath, "mcp"] });
    } finally {
      h.cleanup();
    }
  });

  it("a file that is not JSON is left alone, with a data error", async () => {
    const h = writeOpstermHome();
    try {
      writeFileSync(join(h.home, ".claude.json"), "{ not json");
      const r = await run(h.home, "claude");
      expect(r.code).toBe(65);
      expect(r.stderr).toContain("E_MCP_INSTALL_PARSE");
      expect(readFileSync(join(h.home, ".claude.json"), "utf8")).toBe("{ not json");
      const unknown = await run(h.home, "cursor");
      expect(unknown.code).toBe(2);
    } finally {
      h.cleanup();
    }
  });
});
