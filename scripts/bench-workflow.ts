/**
 * Workflow benchmark (issue 12):
 *   - validating a 50-step workflow in-process: ≤ 10 ms
 *   - `opsterm run NAME --dry-run` of 10 steps on 50 hosts, end to end: ≤ 300 ms
 *   - a run's own overhead beyond its steps' time (10 local steps): ≤ 50 ms plus the audit appends
 * Medians of wall time, and of CPU time (user+sys): on a loaded machine CPU is the steadier figure.
 *
 *   tsx scripts/bench-workflow.ts [--runs=7] [--json]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { checkReferences, loadWorkflow } from "../plugins/workflow/load.ts";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const binary = join(root, "dist/opsterm");
const argOf = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const runs = Math.max(3, Number(argOf("runs") ?? 7));
const json = process.argv.includes("--json");

if (!existsSync(binary)) {
  process.stderr.write(`bench-workflow: ${binary} is missing; run "npm run build" first\n`);
  process.exit(2);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function home(): string {
  const dir = mkdtempSync(join(tmpdir(), "opsterm-bench-wf-"));
  mkdirSync(join(dir, "workflows"));
  writeFileSync(join(dir, "servers.yaml"), "servers:\n" + Array.from({ length: 50 }, (_, i) => `  node${i}:\n    host: 127.0.0.1\n    port: ${10_000 + i}\n    tags: [fleet]\n`).join(""));
  const big = Array.from({ length: 50 }, (_, i) => `  - name: step ${i}\n    ssh: "systemctl restart app-${i} --flag {{v}}"\n    retries: 1\n    timeout: 60`).join("\n");
  writeFileSync(join(dir, "workflows", "big.yaml"), `vars: {v: "1"}\ntargets: "@fleet"\nsteps:\n${big}\n`);
  writeFileSync(join(dir, "workflows", "fleet.yaml"), `targets: "@fleet"\nsteps:\n${Array.from({ length: 10 }, (_, i) => `  - ssh: "systemctl is-active app-${i}"`).join("\n")}\n`);
  writeFileSync(join(dir, "workflows", "local.yaml"), `steps:\n${Array.from({ length: 10 }, () => `  - local: "true"`).join("\n")}\n`);
  return dir;
}

function runBinary(dir: string, args: string[]): { wallMs: number; cpuMs: number; stdout: string } {
  const env = { PATH: process.env.PATH ?? "", HOME: dir, OPSTERM_HOME: dir, NO_COLOR: "1" };
  const out = join(dir, "out");
  const started = performance.now();
  const r = spawnSync("bash", ["-c", `TIMEFORMAT="%3U %3S"; time "$0" "$@" >${out} 2>${out}.err`, binary, ...args], { env, encoding: "utf8" });
  const wallMs = performance.now() - started;
  const m = /(\d+\.\d+) (\d+\.\d+)\s*$/.exec(r.stderr ?? "");
  if (r.status !== 0 || !m) throw new Error(`opsterm ${args.join(" ")} failed (${r.status}): ${readFileSync(`${out}.err`, "utf8")}`);
  return { wallMs, cpuMs: (Number(m[1]) + Number(m[2])) * 1000, stdout: readFileSync(out, "utf8") };
}

const dir = home();
const paths = { configDir: dir, dataDir: dir, home: dir };

// 1. Validation in-process.
await loadWorkflow(paths, "big");
const vWall: number[] = [];
const vCpu: number[] = [];
for (let i = 0; i < runs * 5; i++) {
  const c = process.cpuUsage();
  const t = performance.now();
  checkReferences(await loadWorkflow(paths, "big"), () => undefined);
  vWall.push(performance.now() - t);
  const u = process.cpuUsage(c);
  vCpu.push((u.user + u.system) / 1000);
}

// 2. --dry-run, 10 steps on 50 hosts, end to end.
runBinary(dir, ["run", "fleet", "--dry-run"]);
const dry = Array.from({ length: runs }, () => runBinary(dir, ["run", "fleet", "--dry-run"]));
const rows = dry[0].stdout.trim().split("\n").length;

// 3. A run's overhead: 10 local steps of `true`; the run's duration minus its steps' own.
const overhead: number[] = [];
for (let i = 0; i < runs; i++) {
  const r = runBinary(dir, ["run", "local", "--yes", "--json"]);
  const record = JSON.parse(r.stdout) as { durationMs: number; steps: { hosts: { durationMs: number }[] }[] };
  const steps = record.steps.reduce((n, s) => n + s.hosts.reduce((m, h) => m + h.durationMs, 0), 0);
  overhead.push(record.durationMs - steps);
}

const result = {
  load: loadavg()[0],
  validate50: { wallMs: median(vWall), cpuMs: median(vCpu), limitMs: 10 },
  dryRun10x50: { rows, wallMs: median(dry.map((d) => d.wallMs)), cpuMs: median(dry.map((d) => d.cpuMs)), limitMs: 300 },
  runOverhead10Local: { ms: median(overhead), limitMs: 50, note: "run duration minus its steps' own (each step's time includes its two audit appends)" },
};
rmSync(dir, { recursive: true, force: true });
if (json) process.stdout.write(JSON.stringify(result) + "\n");
else {
  const f = (n: number) => n.toFixed(1);
  process.stdout.write(`load average ${f(result.load)}\n`);
  process.stdout.write(`validate a 50-step workflow (in-process): ${f(result.validate50.wallMs)} ms wall, ${f(result.validate50.cpuMs)} ms CPU (median of ${vWall.length}; limit 10 ms)\n`);
  process.stdout.write(`run --dry-run, 10 steps × 50 hosts (${rows} rows, binary): ${f(result.dryRun10x50.wallMs)} ms wall, ${f(result.dryRun10x50.cpuMs)} ms CPU (median of ${runs}; limit 300 ms)\n`);
  process.stdout.write(`run overhead beyond the steps, 10 local steps: ${f(result.runOverhead10Local.ms)} ms (median of ${runs}; limit 50 ms + audit appends)\n`);
}
