/**
 * Startup benchmark: median wall time of `dist/opsterm --help` against a bare `node -e 0` of the
 * system node, interleaved run by run so both see the same machine load.
 * Acceptance (issue 2): median ≤ 50 ms and not slower than `node -e 0`.
 *
 *   tsx scripts/bench-startup.ts [--runs=40] [--json]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
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

const samples = cases.map(() => [] as number[]);
try {
  for (let i = 0; i < 3; i++) cases.forEach(once); // warm the page cache
  for (let i = 0; i < runs; i++) cases.forEach((c, j) => samples[j].push(once(c)));
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
}));
const [opsterm, node] = stats;
const underLimit = opsterm.medianMs <= LIMIT_MS;
const notSlower = opsterm.medianMs <= node.medianMs;
const ok = underLimit && notSlower;

if (json) {
  process.stdout.write(JSON.stringify({ ok, limitMs: LIMIT_MS, cases: stats }) + "\n");
} else {
  process.stdout.write(`startup, ${runs} runs each (median / min / p90):\n`);
  for (const s of stats) process.stdout.write(`  ${s.name.padEnd(26)} ${s.medianMs.toFixed(1).padStart(6)} ms  ${s.minMs.toFixed(1).padStart(6)} ms  ${s.p90Ms.toFixed(1).padStart(6)} ms\n`);
  process.stdout.write(`  ≤ ${LIMIT_MS} ms: ${underLimit ? "yes" : "NO"}; not slower than node -e 0: ${notSlower ? "yes" : `NO (+${(opsterm.medianMs - node.medianMs).toFixed(1)} ms)`}\n`);
  process.stdout.write(ok ? "startup: PASS\n" : "startup: FAIL\n");
}
process.exit(ok ? 0 : 1);
