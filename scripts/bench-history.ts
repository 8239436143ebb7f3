/**
 * History benchmark (issue 5 targets), figures printed:
 *   1. append: median time of one `record()` (redact + journal append + fsync) with 100k rows stored; ≤ 15 ms.
 *   2. search: median wall time of the CLI process `opsterm history <word> --json` over 100k rows,
 *      including loading history.db and folding in a small journal, for a rare word (nginx) and a
 *      common one (disk); ≤ 150 ms.
 *   3. concurrency: 50 processes × 20 appends at once (with compactions running) → exactly 1000 rows.
 *
 * The CLI is bundled with esbuild into a temp dir (as build.ts does) and run with the system node;
 * dist/opsterm is measured too when it exists and knows `history`.
 *
 *   tsx scripts/bench-history.ts [--rows=100000] [--runs=15] [--json]
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { atomicWrite } from "../src/lib/atomic-write.ts";
import { bundleDataOptions, copyBundleData } from "../tests/helpers/bundle-data.ts";
import { createHistoryStore, type HistoryDeps } from "../plugins/history/service.ts";
import { loadSqlJs } from "../plugins/history/sqlite.ts";
import { count, ingest, maintainIndex, openDatabase } from "../plugins/history/store.ts";
import type { JournalRecord } from "../plugins/history/journal.ts";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const argOf = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const ROWS = Number(argOf("rows") ?? 100_000);
const RUNS = Number(argOf("runs") ?? 15);
const json = process.argv.includes("--json");
/** Seed only, into this directory, and stop (for profiling). */
const seedOnly = argOf("seed-only");
const LIMITS = { appendMs: 15, searchMs: 150, rows: 1000 };

const work = mkdtempSync(join(tmpdir(), "opsterm-bench-history-"));
const home = seedOnly ?? join(work, "home");
const log = (s: string) => {
  if (!json) process.stdout.write(s + "\n");
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const deps = (dataDir: string): HistoryDeps => ({
  dataDir,
  pid: process.pid,
  warn: (t) => process.stderr.write(`warning: ${t}\n`),
  debug: () => {},
  secretValues: async () => ["s3cr3t-token-value"],
  retentionDays: async () => undefined,
});

const SERVERS = ["web-1", "web-2", "db-1", "cache-1", "lb-1"];
const COMMANDS = ["systemctl restart app", "df -h", "journalctl -u app --since today", "tail -n 200 /var/log/syslog", "free -m", "docker ps", "uptime"];
const WORDS = "disk memory service restart failed timeout permission denied socket port config reload cert expired queue worker cron backup".split(" ");

function fakeRecord(i: number): JournalRecord {
  const w = (k: number) => WORDS[(i * 7 + k * 13) % WORDS.length];
  const ts = Date.now() - (ROWS - i) * 60_000;
  if (i % 5 < 3) {
    return {
      v: 1, id: `bench${String(i).padStart(11, "0")}`, ts,
      event: { mode: "exec", server: SERVERS[i % SERVERS.length], command: `${COMMANDS[i % COMMANDS.length]} # ${w(1)} ${i % 1000 === 0 ? "nginx" : ""}`, exitCode: i % 11 === 0 ? 1 : 0, durationMs: 40 + (i % 900), decision: "auto-allow", rule: "default", origin: "user" },
    };
  }
  return {
    v: 1, id: `bench${String(i).padStart(11, "0")}`, ts,
    event: {
      mode: "ask", provider: "openai", model: "gpt-4o-mini", conversation: `c${Math.floor(i / 4)}`,
      question: `why does the ${w(1)} ${w(2)} on ${SERVERS[i % SERVERS.length]} keep ${w(3)}${i % 500 === 0 ? " nginx" : ""}?`,
      answer: `The ${w(4)} is ${w(5)}. Check ${w(6)} and ${w(7)} first: run \`${COMMANDS[i % COMMANDS.length]}\`, then look for ${w(8)} in the log. `.repeat(3),
      promptTokens: 200 + (i % 300), completionTokens: 80 + (i % 200), durationMs: 900 + (i % 3000),
    },
  };
}

async function seed(): Promise<number> {
  const SQL = await loadSqlJs();
  const { db } = openDatabase(SQL, join(home, "history.db"));
  const batch = 5000;
  for (let i = 0; i < ROWS; i += batch) ingest(db, Array.from({ length: Math.min(batch, ROWS - i) }, (_, k) => fakeRecord(i + k)));
  // What the compactions that grew it to this size would have left: a maintained index.
  maintainIndex(db);
  const n = count(db);
  await atomicWrite(join(home, "history.db"), db.export());
  db.close();
  return n;
}

async function bundle(): Promise<string> {
  const out = join(work, "opsterm.cjs");
  await build({
    absWorkingDir: root,
    entryPoints: [join(root, "src/main.ts")],
    outfile: out,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: `node${process.versions.node.split(".")[0]}`,
    minify: true,
    ...bundleDataOptions,
    external: ["cpu-features", "*.node"],
    logLevel: "error",
  });
  copyBundleData(dirname(out));
  return out;
}

/**
 * Wall time of one CLI run, and its CPU time (user + sys, from bash's `times`): on a busy machine
 * the wall time scales with the load average, the CPU time much less.
 */
function timeCli(cmd: string, args: string[], env: Record<string, string>): { wallMs: number; cpuMs: number } {
  const t = performance.now();
  const r = spawnSync("bash", ["-c", '"$@" >/dev/null || exit; times', "bench", cmd, ...args], { env, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  const wallMs = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  // Second line of `times`: the children's user and system time, e.g. "0m0.210s 0m0.050s".
  const child = r.stdout.trim().split("\n")[1] ?? "";
  const secs = [...child.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return { wallMs, cpuMs: secs.reduce((a, b) => a + b, 0) * 1000 };
}

async function main(): Promise<boolean> {
  const t0 = performance.now();
  const seeded = await seed();
  if (seedOnly) return true;
  log(`seeded ${seeded} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s; history.db ${(statSync(join(home, "history.db")).size / 1048576).toFixed(1)} MB`);

  // 1. append
  const store = createHistoryStore(deps(home));
  await store.record({ mode: "exec", server: "web-1", command: "warm-up" });
  const appendSamples: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await store.record({ mode: "exec", server: "web-1", command: `systemctl reload nginx # ${i}`, exitCode: 0, durationMs: 12, decision: "auto-allow" });
    appendSamples.push(performance.now() - t);
  }
  const appendMs = median(appendSamples);
  log(`append: median ${appendMs.toFixed(2)} ms over ${appendSamples.length} (max ${Math.max(...appendSamples).toFixed(1)} ms), ${seeded} rows stored`);

  // 2. search, end to end
  const cli = await bundle();
  const env = { PATH: process.env.PATH ?? "", HOME: home, OPSTERM_HOME: home, NO_COLOR: "1" };
  // "nginx" is rare (~0.1% of rows); "disk" is common (thousands of matches, most of them long answers).
  const cases: { name: string; cmd: string; args: string[] }[] = [];
  for (const word of ["nginx", "disk"]) cases.push({ name: `node bundle history ${word}`, cmd: process.execPath, args: [cli, "history", word, "--json"] });
  const dist = join(root, "dist/opsterm");
  if (existsSync(dist) && spawnSync(dist, ["history", "--help"], { env, stdio: "ignore" }).status === 0) {
    for (const word of ["nginx", "disk"]) cases.push({ name: `dist/opsterm history ${word}`, cmd: dist, args: ["history", word, "--json"] });
  }
  log(`load average before the search runs: ${loadavg().map((l) => l.toFixed(2)).join(" ")} on ${cpus().length} CPUs (wall times scale with it)`);
  const searchStats: { name: string; medianMs: number; minMs: number; cpuMedianMs: number }[] = [];
  for (const c of cases) {
    timeCli(c.cmd, c.args, env);
    const samples: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      // A small journal each time: the reader folds it in.
      for (let k = 0; k < 5; k++) await store.record({ mode: "ask", question: `nginx question ${i}.${k}`, answer: "an answer" });
      const run = timeCli(c.cmd, c.args, env);
      samples.push(run.wallMs);
      cpu.push(run.cpuMs);
    }
    searchStats.push({ name: c.name, medianMs: median(samples), minMs: Math.min(...samples), cpuMedianMs: median(cpu) });
    log(`search: ${c.name}: median ${median(samples).toFixed(1)} ms, min ${Math.min(...samples).toFixed(1)} ms, CPU median ${median(cpu).toFixed(0)} ms over ${RUNS} runs (${seeded}+ rows, journal of 5-${5 * RUNS} events)`);
  }
  const compactT = performance.now();
  const compacted = await store.compact();
  log(`compact (save whole db): ${(performance.now() - compactT).toFixed(0)} ms, ${compacted.total} rows`);

  // 3. concurrency: 50 × 20 appends, while compactions run
  const conc = join(work, "conc");
  const appender = join(work, "append.cjs");
  await build({
    absWorkingDir: root,
    stdin: {
      contents: `import { createHistoryStore } from "./plugins/history/service.ts";
        const s = createHistoryStore({ dataDir: process.argv[2], pid: process.pid, warn: (t) => console.error(t), debug: () => {}, secretValues: async () => [], retentionDays: async () => undefined });
        const mode = process.argv[3];
        (async () => {
          for (let i = 0; i < 20; i++) {
            if (mode === "compact" && i % 5 === 0) await s.compact();
            await s.record({ mode: "exec", server: "p" + process.pid, command: "echo " + i });
          }
        })().catch((e) => { console.error(e); process.exit(1); });`,
      resolveDir: root,
      loader: "ts",
    },
    outfile: appender,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: `node${process.versions.node.split(".")[0]}`,
    ...bundleDataOptions,
    logLevel: "error",
  });
  copyBundleData(dirname(appender));
  const tc = performance.now();
  const codes = await Promise.all(
    Array.from({ length: 50 }, (_, i) => new Promise<number>((res) => {
      const child = spawn(process.execPath, [appender, conc, i % 10 === 0 ? "compact" : "append"], { stdio: ["ignore", "ignore", "inherit"] });
      child.on("exit", (code) => res(code ?? 1));
    })),
  );
  const concMs = performance.now() - tc;
  const rows = await createHistoryStore(deps(conc)).count();
  log(`concurrency: 50 processes × 20 appends (5 of them compacting meanwhile) → ${rows} rows in ${(concMs / 1000).toFixed(1)} s; exit codes ${codes.every((c) => c === 0) ? "all 0" : codes.join(",")}`);

  const ok = appendMs <= LIMITS.appendMs && searchStats.every((s) => s.medianMs <= LIMITS.searchMs) && rows === LIMITS.rows && codes.every((c) => c === 0);
  if (json) process.stdout.write(JSON.stringify({ ok, limits: LIMITS, rows: seeded, appendMedianMs: +appendMs.toFixed(2), search: searchStats, concurrencyRows: rows, loadavg: loadavg() }) + "\n");
  log(ok ? "history: PASS" : "history: FAIL");
  return ok;
}

main().then(
  (ok) => {
    rmSync(work, { recursive: true, force: true });
    process.exit(ok ? 0 : 1);
  },
  (error) => {
    rmSync(work, { recursive: true, force: true });
    process.stderr.write(`bench-history: ${(error as Error).stack}\n`);
    process.exit(1);
  },
);
