/**
 * A workflow run by a real cron daemon (Debian's cron, started here if none runs): the line from
 * `opsterm workflow cron --install` runs with no terminal, reaches a real sshd, pings the notify
 * URL with its exit code, and the run is in history marked as a cron run. One test: cron runs
 * entries on the minute, so it waits up to ~70 s.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { opstermAsync, requireBuilt } from "../helpers/binary.ts";
import { startSshd, writeOpstermHome, type OpstermHome, type SshdHandle } from "../helpers/sshd.ts";

let sshd: SshdHandle;
let home: OpstermHome;
let project: string;
let server: Server;
let daemon: ChildProcess | undefined;
let savedCrontab: string | undefined;
const pings: { method: string; url: string; body: string }[] = [];

const crontab = (args: string[], input?: string) => spawnSync("crontab", args, { input, encoding: "utf8" });

beforeAll(async () => {
  requireBuilt();
  sshd = await startSshd();
  home = writeOpstermHome({ servers: { web1: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
  project = mkdtempSync(join(tmpdir(), "opsterm-cron-project-"));
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      pings.push({ method: req.method ?? "", url: req.url ?? "", body });
      res.end("OK");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  mkdirSync(join(home.home, "workflows"));
  writeFileSync(
    join(home.home, "workflows", "nightly.yaml"),
    `notify: "http://127.0.0.1:${port}/hc/nightly"
steps:
  - name: remote
    ssh: "uname -n"
    targets: web1
  - name: local
    local: "echo from-cron"
`,
  );
  const current = crontab(["-l"]);
  savedCrontab = current.status === 0 ? current.stdout : undefined;
  // One cron daemon per machine: use the running one, else start ours in the foreground.
  if (spawnSync("pgrep", ["-x", "cron"]).status !== 0) {
    daemon = spawn("cron", ["-f", "-L", "15"], { stdio: "ignore" });
  }
}, 60_000);

afterAll(async () => {
  if (savedCrontab === undefined) crontab(["-r"]);
  else crontab(["-"], savedCrontab);
  daemon?.kill("SIGTERM");
  await sshd?.stop();
  server?.close();
  home?.cleanup();
  rmSync(project, { recursive: true, force: true });
});

describe("cron", () => {
  it("runs an installed workflow line with no terminal: pings start and 0, silent, recorded as a cron run", async () => {
    const env = { ...home.env };
    const first = await opstermAsync(["workflow", "cron", "nightly", "* * * * *", "--install"], { home: home.home, cwd: project, env });
    expect(first.stderr).toContain("added to your crontab");
    expect(first.code).toBe(0);
    const line = first.stdout.trim();
    expect(line).toMatch(new RegExp(`^\\* \\* \\* \\* \\* cd ${project} && env OPSTERM_HOME=${home.home} OPSTERM_KNOWN_HOSTS=\\S+ PATH=\\S+ (LANG=\\S+ )?/\\S+/dist/opsterm run nightly --cron # opsterm workflow nightly$`));
    // Idempotent: a second --install changes nothing.
    const again = await opstermAsync(["workflow", "cron", "nightly", "* * * * *", "--install"], { home: home.home, cwd: project, env });
    expect(again.stderr).toContain("nothing changed");
    expect(crontab(["-l"]).stdout.split("\n").filter((l) => l.includes("# opsterm workflow nightly"))).toEqual([line]);

    // Wait for cron to start it (on the next minute) and for the run to end.
    const deadline = Date.now() + 75_000;
    while (!pings.some((p) => p.url === "/hc/nightly/0" || /^\/hc\/nightly\/\d+$/.test(p.url)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    expect(pings.map((p) => `${p.method} ${p.url}`).slice(0, 2)).toEqual(["GET /hc/nightly/start", "POST /hc/nightly/0"]);
    crontab(["-r"]);

    const runs = await opstermAsync(["workflow", "runs", "nightly", "--json"], { home: home.home, cwd: project, env });
    const list = JSON.parse(runs.stdout) as { runs: { runId: string; status: string; cron: boolean; exitCode: number }[] };
    expect(list.runs[0]).toMatchObject({ status: "ok", cron: true, exitCode: 0 });
    const audit = readFileSync(join(home.home, "audit", "audit.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as { runId: string; phase: string; action: string; server: string });
    expect(audit.filter((r) => r.runId === list.runs[0].runId).map((r) => `${r.phase} ${r.action} ${r.server}`)).toEqual(["intent exec web1", "result exec web1", "intent local local", "result local local"]);
    expect(existsSync(join(home.home, "workflow-locks", "nightly.lock"))).toBe(false);
  }, 120_000);
});
