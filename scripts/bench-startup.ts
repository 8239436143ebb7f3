/**
 * Startup benchmark: median wall time of `dist/opsterm --help` against a bare `node -e 0` of the
 * system node, interleaved run by run so both see the same machine load.
 * Acceptance (issue 2): median ≤ 50 ms and not slower than `node -e 0`. The CPU time (user+sys)
 * of each is printed too: on a loaded machine it is the steadier figure.
 *
 *   tsx scripts/bench-startup.ts [--runs=40] [--json]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const binary = join(root, "dist/opsterm");
const argOf = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const runs = Math.max(30, Number(argOf("runs") ?? 40));
const json = process.argv.includes("--json");
const LIMIT_MS = 50;

if (!existsSync(binary)) {
  process.stderr.write(`bench-startup: ${binary} is missing; run "npm run build" first\n`);
  process.exit(2);
}

const home = mkdtempSync(join(tmpdir(), "opsterm-bench-"));
const env = { PATH: process.env.PATH ?? "", HOME: home, OPSTERM_HOME: home, NO_COLOR: "1" };
const cases = [
  { name: "dist/opsterm --help", cmd: binary, args: ["--help"] },
  { name: "node -e 0 (system node)", cmd: process.execPath, args: ["-e", "0"] },
];

function once(c: (typeof cases)[number]): number {
  const t = performance.now();
  const r = spawnSync(c.cmd, c.args, { env, stdio: "ignore" });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${c.name} exited ${r.status ?? r.signal}`);
  return ms;
}

/**
 * CPU time (user + sys) of one run, from bash's `time`: unlike wall time it barely moves when
 * other processes load the machine, so it shows what opsterm itself costs.
 */
function cpuOnce(c: (typeof cases)[number]): number | undefined {
  const r = spawnSync("bash", ["-c", 'TIMEFORMAT="%3U %3S"; time "$0" "$@" >/dev/null 2>&1', c.cmd, ...c.args], { env, encoding: "utf8" });
  const m = /(\d+\.\d+) (\d+\.\d+)\s*$/.exec(r.stderr ?? "");
  return m ? (Number(m[1]) + Number(m[2])) * 1000 : undefined;
}

const samples = cases.map(() => [] as number[]);
const cpu = cases.map(() => [] as number[]);
try {
  for (let i = 0; i < 3; i++) cases.forEach(once); // warm the page cache
  for (let i = 0; i < runs; i++) cases.forEach((c, j) => samples[j].push(once(c)));
  for (let i = 0; i < runs; i++) {
    cases.forEach((c, j) => {
      const ms = cpuOnce(c);
      if (ms !== undefined) cpu[j].push(ms);
    });
  }
} finally {
  rmSync(home, { recursive: true, force: true });
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo] + (s[Math.ceil(pos)] - s[lo]) * (pos - lo);
};
const stats = cases.map((c, j) => ({
  name: c.name,
  runs,
  medianMs: +quantile(samples[j], 0.5).toFixed(1),
  minMs: +Math.min(...samples[j]).toFixed(1),
  p90Ms: +quantile(samples[j], 0.9).toFixed(1),
  cpuMedianMs: cpu[j].length ? +quantile(cpu[j], 0.5).toFixed(1) : null,
}));
const load = (() => {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ")[0];
  } catch {
    return "?";
  }
})();
const [opsterm, node] = stats;
const underLimit = opsterm.medianMs <= LIMIT_MS;
const notSlower = opsterm.medianMs <= node.medianMs;
const ok = underLimit && notSlower;

if (json) {
  process.stdout.write(JSON.stringify({ ok, limitMs: LIMIT_MS, loadAverage: Number(load), cases: stats }) + "\n");
} else {
  process.stdout.write(`startup, ${runs} runs each, load average ${load} (wall median / min / p90, then CPU user+sys median):\n`);
  for (const s of stats) {
    process.stdout.write(
      `  ${s.name.padEnd(26)} ${s.medianMs.toFixed(1).padStart(6)} ms  ${s.minMs.toFixed(1).padStart(6)} ms  ${s.p90Ms.toFixed(1).padStart(6)} ms   cpu ${s.cpuMedianMs === null ? "   n/a" : s.cpuMedianMs.toFixed(1).padStart(6)} ms\n`,
    );
  }
  process.stdout.write(`  ≤ ${LIMIT_MS} ms: ${underLimit ? "yes" : "NO"}; not slower than node -e 0: ${notSlower ? "yes" : `NO (+${(opsterm.medianMs - node.medianMs).toFixed(1)} ms)`}\n`);
  process.stdout.write(ok ? "startup: PASS\n" : "startup: FAIL\n");
}
process.exit(ok ? 0 : 1);
