/**
 * Agent benchmark: a scripted 20-step session of the built binary (`dist/opsterm agent --yes
 * --json`) against a real sshd on loopback, the model being the fake OpenAI-compatible server.
 * Each step is one tool call (remote_exec `cat`, remote_stat alternately), then a text answer.
 *
 * opsterm's overhead per tool round = the round's wall time (as the agent measures it) − the time
 * in the model request − the time the same operation takes on a plain ssh2 connection (a warm
 * exec channel / SFTP stat, measured here). It holds policy, approval, the audit intent and result
 * (fsynced), history, redaction of the transcript, the tool envelope. SSH handshakes are counted
 * from sshd's log ("Accepted publickey"): one per host per session is the target.
 *
 * Usage: npm run build && npm run bench:agent [-- --runs 3 --steps 20]
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "ssh2";
import { startFakeAi } from "../tests/helpers/fake-ai-server.ts";
import { startSshd, writeOpstermHome } from "../tests/helpers/sshd.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "dist", "opsterm");
const argv = process.argv.slice(2);
const flag = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const runs = Number(flag("runs", "3"));
if (!existsSync(BIN)) {
  process.stderr.write(`bench:agent runs the built binary: ${BIN} is missing; run "npm run build" first\n`);
  process.exit(2);
}
const steps = Number(flag("steps", "20"));

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))];

const sshd = await startSshd();
const ai = await startFakeAi();
const scratch = mkdtempSync(join(tmpdir(), "opsterm-bench-agent-"));
const file = join(scratch, "app.conf");
writeFileSync(file, "workers = 2\n".repeat(50));

// Baseline: the same operations on a plain, warm ssh2 connection.
async function baseline(): Promise<{ execMs: number; statMs: number }> {
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client.on("ready", () => resolve()).on("error", reject);
    client.connect({ host: sshd.host, port: sshd.port, username: sshd.user, privateKey: readFileSync(sshd.userKeyPath) });
  });
  // opsterm sets TCP_NODELAY on its connections; a baseline without it waits on Nagle and makes
  // opsterm's overhead look smaller than it is.
  client.setNoDelay(true);
  const exec = (): Promise<void> =>
    new Promise((resolve, reject) =>
      client.exec(`cat ${file}`, (err, stream) => {
        if (err) return reject(err);
        stream.on("data", () => undefined).stderr.on("data", () => undefined);
        stream.on("close", () => resolve());
      }),
    );
  const sftp = await new Promise<import("ssh2").SFTPWrapper>((resolve, reject) => client.sftp((e, s) => (e ? reject(e) : resolve(s))));
  const stat = (): Promise<void> => new Promise((resolve, reject) => sftp.stat(file, (e) => (e ? reject(e) : resolve())));
  const e: number[] = [];
  const s: number[] = [];
  for (let i = 0; i < steps + 5; i++) {
    let t = performance.now();
    await exec();
    e.push(performance.now() - t);
    t = performance.now();
    await stat();
    s.push(performance.now() - t);
  }
  client.end();
  return { execMs: median(e.slice(5)), statMs: median(s.slice(5)) };
}

function script(): void {
  ai.reset();
  for (let i = 0; i < steps; i++) {
    ai.enqueue(ai.toolCalls([i % 2 === 0 ? { name: "remote_exec", args: { server: "web1", command: `cat ${file}` } } : { name: "remote_stat", args: { server: "web1", path: file } }], { dialect: i % 3 === 0 ? "openai" : i % 3 === 1 ? "ollama" : "llamacpp" }));
  }
  ai.enqueue(ai.stream(["Done."]));
}

function runAgent(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; wallMs: number }> {
  const t = performance.now();
  return new Promise((resolve) => {
    const child = spawn(BIN, ["agent", "--yes", "--json", "--max-steps", String(steps + 1), "benchmark"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c));
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    child.on("close", (code) => resolve({ code, stdout, stderr, wallMs: performance.now() - t }));
  });
}

const handshakes = () => (sshd.logs().match(/Accepted publickey/g) ?? []).length;

try {
  const base = await baseline();
  console.log(`baseline (plain ssh2, warm): exec cat ${base.execMs.toFixed(1)} ms, sftp stat ${base.statMs.toFixed(1)} ms`);
  const overheads: number[] = [];
  const glue: number[] = [];
  const gate: number[] = [];
  const firstRounds: number[] = [];
  const wall: number[] = [];
  const hs: number[] = [];
  for (let r = 0; r < runs; r++) {
    const h = writeOpstermHome({ servers: { web1: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
    script();
    const before = handshakes();
    const res = await runAgent({ ...h.env, OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_MODEL: "bench-model" });
    hs.push(handshakes() - before);
    if (res.code !== 0) throw new Error(`agent exited ${res.code}: ${res.stderr}`);
    const out = JSON.parse(res.stdout) as { rounds: { modelMs: number; toolsMs: number; roundMs: number }[]; toolCalls: { name: string }[] };
    const tools = out.rounds.slice(0, steps);
    firstRounds.push(tools[0].roundMs - tools[0].modelMs);
    // Round 1 opens the connection and gathers the host facts: measured apart.
    tools.slice(1).forEach((round, k) => {
      const op = out.toolCalls[k + 1].name === "remote_exec" ? base.execMs : base.statMs;
      overheads.push(round.roundMs - round.modelMs - op);
      glue.push(round.roundMs - round.modelMs - round.toolsMs);
      gate.push(round.toolsMs - op);
    });
    wall.push(res.wallMs);
    h.cleanup();
  }
  console.log(`${runs} sessions × ${steps} tool rounds (load average ${loadavg()[0].toFixed(1)}):`);
  console.log(`  opsterm overhead per tool round: median ${median(overheads).toFixed(1)} ms, p90 ${p90(overheads).toFixed(1)} ms (target ≤ 10 ms)`);
  console.log(`    of which the loop (request building, redaction, hooks, planning): median ${median(glue).toFixed(1)} ms; the tool call beyond plain SSH (gate, audit, history, envelope): median ${median(gate).toFixed(1)} ms`);
  console.log(`  first round (connect + host facts): median ${median(firstRounds).toFixed(0)} ms`);
  console.log(`  whole session (process start to exit): median ${median(wall).toFixed(0)} ms`);
  console.log(`  SSH handshakes per session: ${hs.join(", ")} (target 1)`);
} finally {
  await ai.close();
  await sshd.stop();
  rmSync(scratch, { recursive: true, force: true });
}
