/**
 * MCP server benchmark (issue 14): the official SDK client spawns `dist/opsterm mcp` against a
 * throwaway sshd on loopback and measures
 *
 *   1. start-up: spawn → initialize result (median of --spawns runs; acceptance ≤ 300 ms);
 *   2. a read-only call's overhead over the SSH round trip: `remote_stat` through MCP against the
 *      same SFTP stat on a plain ssh2 connection held open (medians of --calls, interleaved so
 *      both see the same load; acceptance ≤ 10 ms), and the same for `remote_exec echo` against a
 *      raw exec; plus the server's CPU time per call (user+sys from /proc: steadier under load).
 *      The total splits in two: the MCP layer (the call as the client sees it minus the tool's own
 *      `durationMs` in the envelope: protocol, stdio, JSON, redaction) and the gate (that
 *      `durationMs` minus the raw operation: policy, audit intent and result with fsync, history,
 *      the executor's SFTP channel).
 *
 *   npm run bench:mcp [-- --calls 200 --spawns 15 --json]
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { Client as SshClient, type SFTPWrapper } from "ssh2";
import { startSshd, writeOpstermHome } from "../tests/helpers/sshd.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BINARY = join(ROOT, "dist/opsterm");
const argv = process.argv.slice(2);
const flag = (name: string, def: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const CALLS = flag("calls", 200);
const SPAWNS = flag("spawns", 15);
const JSON_OUT = argv.includes("--json");
const INIT_LIMIT_MS = 300;
const OVERHEAD_LIMIT_MS = 10;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];
const cpuMs = (pid: number) => {
  // utime + stime in clock ticks (100 Hz on Linux).
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

const sshd = await startSshd();
const home = writeOpstermHome({ servers: { web1: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
const env = { ...home.env, LANG: "C.UTF-8" };

async function session() {
  const transport = new StdioClientTransport({ command: BINARY, args: ["mcp"], env, stderr: "ignore" });
  const client = new Client({ name: "bench", version: "1" });
  const started = performance.now();
  await client.connect(transport);
  return { client, transport, initMs: performance.now() - started };
}

try {
  // 1. Start-up to the initialize result.
  // `--help` alongside, interleaved: on a loaded machine it shows what any start costs here.
  const inits: number[] = [];
  const helps: number[] = [];
  for (let i = 0; i < SPAWNS; i++) {
    const s = await session();
    inits.push(s.initMs);
    await s.client.close();
    const t = performance.now();
    spawnSync(BINARY, ["--help"], { env, stdio: "ignore" });
    helps.push(performance.now() - t);
  }

  // 2. Calls: MCP vs the same operation on a held ssh2 connection.
  const raw = new SshClient();
  await new Promise<void>((resolve, reject) => {
    raw.once("ready", () => resolve()).once("error", reject);
    raw.connect({ host: "127.0.0.1", port: sshd.port, username: sshd.user, privateKey: readFileSync(sshd.userKeyPath) });
  });
  // opsterm's connections set TCP_NODELAY; without it here the baseline waits on Nagle and
  // the overhead would look smaller than it is.
  raw.setNoDelay(true);
  const sftp = await new Promise<SFTPWrapper>((resolve, reject) => raw.sftp((e, s) => (e ? reject(e) : resolve(s))));
  const rawStat = () => new Promise<void>((resolve, reject) => sftp.stat("/", (e) => (e ? reject(e) : resolve())));
  const rawExec = () =>
    new Promise<void>((resolve, reject) =>
      raw.exec("echo 1", (e, ch) => {
        if (e) return reject(e);
        ch.on("data", () => {}).on("close", () => resolve());
        ch.stderr.resume();
      }),
    );

  const s = await session();
  const pid = s.transport.pid!;
  const time = async (fn: () => Promise<unknown>) => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };
  const stat = () => s.client.callTool({ name: "remote_stat", arguments: { server: "web1", path: "/" } });
  const exec = () => s.client.callTool({ name: "remote_exec", arguments: { server: "web1", command: "echo 1" } });
  // Warm up: the pooled connection, the SFTP channel, JIT.
  for (let i = 0; i < 10; i++) await Promise.all([stat(), rawStat()].map((p) => p.catch(() => {})));
  const samples = { mcpStat: [] as number[], rawStat: [] as number[], mcpExec: [] as number[], rawExec: [] as number[], statTool: [] as number[], execTool: [] as number[] };
  const timed = async (fn: () => Promise<unknown>, tool: number[]) => {
    const t = performance.now();
    const r = (await fn()) as { structuredContent?: { durationMs?: number } };
    const ms = performance.now() - t;
    tool.push(r.structuredContent?.durationMs ?? NaN);
    return ms;
  };
  const cpu = { stat: 0, exec: 0 };
  for (let i = 0; i < CALLS; i++) {
    samples.rawStat.push(await time(rawStat));
    let c = cpuMs(pid);
    samples.mcpStat.push(await timed(stat, samples.statTool));
    cpu.stat += cpuMs(pid) - c;
    samples.rawExec.push(await time(rawExec));
    c = cpuMs(pid);
    samples.mcpExec.push(await timed(exec, samples.execTool));
    cpu.exec += cpuMs(pid) - c;
  }
  await s.client.close();
  raw.end();

  const result = {
    calls: CALLS,
    initializeMs: { median: median(inits), p90: p90(inits), limit: INIT_LIMIT_MS, helpMedian: median(helps) },
    stat: {
      mcpMs: median(samples.mcpStat),
      rawSftpMs: median(samples.rawStat),
      overheadMs: median(samples.mcpStat) - median(samples.rawStat),
      mcpLayerMs: median(samples.mcpStat.map((m, i) => m - samples.statTool[i])),
      gateMs: median(samples.statTool) - median(samples.rawStat),
      serverCpuMsPerCall: cpu.stat / CALLS,
      limit: OVERHEAD_LIMIT_MS,
    },
    exec: {
      mcpMs: median(samples.mcpExec),
      rawExecMs: median(samples.rawExec),
      overheadMs: median(samples.mcpExec) - median(samples.rawExec),
      mcpLayerMs: median(samples.mcpExec.map((m, i) => m - samples.execTool[i])),
      gateMs: median(samples.execTool) - median(samples.rawExec),
      serverCpuMsPerCall: cpu.exec / CALLS,
    },
    load: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
  };
  if (JSON_OUT) console.log(JSON.stringify(result));
  else {
    const f = (n: number) => `${n.toFixed(1)} ms`;
    console.log(`load average ${result.load}`);
    console.log(`initialize after spawn   median ${f(result.initializeMs.median)}  p90 ${f(result.initializeMs.p90)}  (limit ${INIT_LIMIT_MS} ms) ${result.initializeMs.median <= INIT_LIMIT_MS ? "ok" : "OVER"}; \`opsterm --help\` here: ${f(result.initializeMs.helpMedian)}`);
    console.log(`remote_stat via MCP      median ${f(result.stat.mcpMs)}  vs raw SFTP stat ${f(result.stat.rawSftpMs)}  overhead ${f(result.stat.overheadMs)} (limit ${OVERHEAD_LIMIT_MS} ms) ${result.stat.overheadMs <= OVERHEAD_LIMIT_MS ? "ok" : "OVER"}; server CPU ${f(result.stat.serverCpuMsPerCall)}/call`);
    console.log(`  of which: MCP layer ${f(result.stat.mcpLayerMs)}, gate + executor ${f(result.stat.gateMs)}`);
    console.log(`remote_exec via MCP      median ${f(result.exec.mcpMs)}  vs raw exec ${f(result.exec.rawExecMs)}  overhead ${f(result.exec.overheadMs)}; server CPU ${f(result.exec.serverCpuMsPerCall)}/call`);
    console.log(`  of which: MCP layer ${f(result.exec.mcpLayerMs)}, gate + executor ${f(result.exec.gateMs)}`);
  }
} finally {
  await sshd.stop();
  home.cleanup();
}
