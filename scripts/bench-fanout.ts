/**
 * Fan-out benchmark: starts N throwaway sshd on loopback and runs `uname -n` on all of them with
 * opsterm (`exec @all`), Debian's parallel-ssh, and plain `ssh` in a loop; prints medians and ratios.
 *
 * Usage: npm run bench:fanout [-- --sizes 10,50 --runs 5 --opsterm "dist/opsterm" --baseline "/tmp/old/opsterm"]
 * --baseline adds another opsterm build to the same interleaved rounds (a before/after comparison
 * that a load change on the machine cannot skew).
 * opsterm runs from a fresh esbuild bundle of the working tree (like dist/opsterm.cjs) unless
 * --opsterm names a command. Needs sshd (openssh-server) and parallel-ssh (pssh).
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { bundleDataOptions, copyBundleData } from "../tests/helpers/bundle-data.ts";
import { startSshd, writeOpstermHome, type SshdHandle } from "../tests/helpers/sshd.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const sizes = flag("sizes", "10,50").split(",").map(Number);
const runs = Number(flag("runs", "5"));
const baseline = flag("baseline", "");

function which(cmd: string): string | undefined {
  try {
    return execFileSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

async function opstermCommand(tmp: string): Promise<string[]> {
  const custom = flag("opsterm", "");
  if (custom) return custom.split(" ");
  const out = join(tmp, "opsterm.cjs");
  await build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, "src/main.ts")],
    outfile: out,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    minify: true,
    ...bundleDataOptions,
    define: { ...bundleDataOptions.define, __OPSTERM_VERSION__: '"bench"' },
    logLevel: "error",
    plugins: [
      {
        name: "native-stub",
        setup(b) {
          b.onResolve({ filter: /(\.node$|^cpu-features$)/ }, (a) => ({ path: a.path, namespace: "stub" }));
          b.onLoad({ filter: /.*/, namespace: "stub" }, () => ({ contents: "throw new Error('native addon stub')", loader: "js" }));
        },
      },
    ],
  });
  copyBundleData(tmp);
  return [process.execPath, out];
}

/**
 * Peak RSS of a run: GNU time's %M (the largest process of the run; opsterm is one process), or
 * without GNU time the direct child's VmHWM from /proc, read every 10 ms until it exits.
 */
const GNU_TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

function watchHwm(pid: number | undefined): () => number | undefined {
  let kb: number | undefined;
  const read = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) kb = Math.max(kb ?? 0, Number(m[1]));
    } catch {
      // Exited.
    }
  };
  const timer = pid ? setInterval(read, 10) : undefined;
  return () => {
    if (timer) clearInterval(timer);
    return kb;
  };
}

function run(cmd: string[], env: Record<string, string>, rssFile: string): Promise<{ ms: number; code: number | null; stdout: string; stderr: string; rssKb?: number }> {
  const argv = GNU_TIME ? [GNU_TIME, "-q", "-f", "%M", "-o", rssFile, ...cmd] : cmd;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ["ignore", "pipe", "pipe"] });
    const hwm = GNU_TIME ? undefined : watchHwm(child.pid);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c));
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = performance.now() - started;
      let rssKb = hwm?.();
      try {
        if (GNU_TIME) rssKb = Number(readFileSync(rssFile, "utf8").trim().split("\n").pop()) || undefined;
      } catch {
        rssKb = undefined;
      }
      resolve({ ms, code, stdout, stderr, rssKb });
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const sshd = which("/usr/sbin/sshd") ?? (existsSync("/usr/sbin/sshd") ? "/usr/sbin/sshd" : undefined);
  const pssh = which("parallel-ssh");
  if (!sshd) throw new Error("sshd missing: apt-get install -y openssh-server");
  if (!pssh) throw new Error("parallel-ssh missing: apt-get install -y pssh");
  const tmp = mkdtempSync(join(tmpdir(), "opsterm-bench-"));
  const opsterm = await opstermCommand(tmp);
  const rows: string[] = [];
  console.log(`fan-out bench: uname -n on N loopback sshd, ${runs} runs each, median wall time (cores: ${(await import("node:os")).cpus().length}, load average before: ${(await import("node:os")).loadavg()[0].toFixed(1)}); peak RSS is the largest process of a run (${GNU_TIME ? "GNU time %M" : "VmHWM of the tool's own process, sampled"})`);
  for (const n of sizes) {
    const first = await startSshd();
    const servers: SshdHandle[] = [first, ...(await Promise.all(Array.from({ length: n - 1 }, () => startSshd({ userKeyPath: first.userKeyPath }))))];
    try {
      const home = writeOpstermHome({
        servers: Object.fromEntries(servers.map((s, i) => [`h${i}`, s.server({ tags: ["all"] })])),
        knownHosts: servers.map((s) => s.knownHostsLine()),
      });
      const env = { ...home.env };
      const hostsFile = join(tmp, `hosts-${n}`);
      writeFileSync(hostsFile, servers.map((s) => `${s.user}@127.0.0.1:${s.port}`).join("\n") + "\n");
      const sshOpts = ["-o", `UserKnownHostsFile=${home.knownHostsPath}`, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "GlobalKnownHostsFile=/dev/null", "-i", first.userKeyPath];
      const tools: { name: string; cmd: string[]; check: (out: string) => boolean }[] = [
        { name: "opsterm", cmd: [...opsterm, "exec", "@all", "--parallel", String(n), "--json", "--", "uname", "-n"], check: (o) => o.trim().split("\n").filter((l) => l.includes('"status":0')).length === n },
        ...(baseline
          ? [{ name: "baseline", cmd: [...baseline.split(" "), "exec", "@all", "--parallel", String(n), "--json", "--", "uname", "-n"], check: (o: string) => o.trim().split("\n").filter((l) => l.includes('"status":0')).length === n }]
          : []),
        {
          name: "parallel-ssh",
          cmd: [pssh, "-h", hostsFile, "-p", String(n), "-t", "30", "-x", sshOpts.join(" "), "uname", "-n"],
          check: (o) => (o.match(/\[SUCCESS\]/g) ?? []).length === n,
        },
        {
          name: "ssh loop",
          cmd: ["sh", "-c", servers.map((s) => `ssh ${sshOpts.map((o) => `'${o}'`).join(" ")} -p ${s.port} ${s.user}@127.0.0.1 uname -n`).join(" && ")],
          check: (o) => o.trim().split("\n").length === n,
        },
      ];
      const medians: Record<string, number> = {};
      const peakRss: Record<string, number> = {};
      const times: Record<string, number[]> = Object.fromEntries(tools.map((t) => [t.name, []]));
      // One warm-up round (page cache, sshd first fork), then the measured rounds. The tools take
      // turns within a round, so a load change on the machine hits all of them alike.
      for (let i = 0; i <= runs; i++) {
        for (const tool of tools) {
          const r = await run(tool.cmd, env, join(tmp, "rss"));
          if (r.code !== 0 || !tool.check(r.stdout)) throw new Error(`${tool.name} failed (exit ${r.code}):\n${r.stdout.slice(0, 800)}\n${r.stderr.slice(0, 800)}`);
          if (i > 0) times[tool.name].push(r.ms);
          if (r.rssKb) peakRss[tool.name] = Math.max(peakRss[tool.name] ?? 0, r.rssKb);
        }
      }
      for (const tool of tools) medians[tool.name] = median(times[tool.name]);
      const o = medians.opsterm;
      const rss = (name: string) => (peakRss[name] ? `, peak RSS ${(peakRss[name] / 1024).toFixed(0)} MiB` : "");
      rows.push(
        `N=${String(n).padEnd(3)} opsterm ${o.toFixed(0).padStart(6)} ms${rss("opsterm")} | parallel-ssh ${medians["parallel-ssh"].toFixed(0).padStart(6)} ms (${(medians["parallel-ssh"] / o).toFixed(2)}x opsterm${rss("parallel-ssh")}) | ssh loop ${medians["ssh loop"].toFixed(0).padStart(6)} ms (${(medians["ssh loop"] / o).toFixed(2)}x opsterm)`,
      );
      if (baseline) rows.push(`       baseline ${medians.baseline.toFixed(0)} ms: opsterm is ${Math.abs((o / medians.baseline - 1) * 100).toFixed(1)}% ${o >= medians.baseline ? "slower" : "faster"} than the baseline`);
      console.log(rows.slice(baseline ? -2 : -1).join("\n"));
      console.log(`       runs (ms): ${tools.map((t) => `${t.name} ${times[t.name].map((x) => x.toFixed(0)).join(" ")}`).join(" | ")}`);
      home.cleanup();
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  }
  rmSync(tmp, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(`bench-fanout: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
