/**
 * Workflows end to end on the built binary: three real sshd, the real policy, the audit log with
 * its git snapshots, history.db, a local HTTP server receiving the notify pings, a pty.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binaryPath, opstermAsync, requireBuilt, type Run } from "../helpers/binary.ts";
import { startSshd, writeOpstermHome, type OpstermHome, type SshdHandle } from "../helpers/sshd.ts";
import { runOnTty } from "../helpers/pty.ts";

interface AuditLine {
  seq: number;
  runId: string;
  action: string;
  phase: string;
  server: string;
  approver?: string;
  decision?: string;
  rule?: string;
  exitCode?: number | null;
  args: { command?: string; kind?: string; path?: string; snapshots?: { before?: string; after?: string }[] };
  snapshot?: { path: string; before?: string; after?: string };
}

let sshds: SshdHandle[] = [];
let home: OpstermHome;
let project: string;
let remote: string;
const pings: { method: string; url: string; body: string }[] = [];
let pingServer: Server;
let pingUrl: string;

const audit = (): AuditLine[] => {
  const path = join(home.home, "audit", "audit.jsonl");
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as AuditLine) : [];
};
const ofRun = (runId: string) => audit().filter((r) => r.runId === runId);

function opsterm(args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return opstermAsync(args, { home: home.home, cwd: project, env: { ...home.env, ...options.env }, input: options.input });
}

async function json<T>(args: string[]): Promise<T> {
  const r = await opsterm([...args, "--json"]);
  expect(r.stderr).toBe("");
  return JSON.parse(r.stdout) as T;
}

function writeWorkflow(name: string, yaml: string): void {
  mkdirSync(join(home.home, "workflows"), { recursive: true });
  writeFileSync(join(home.home, "workflows", `${name}.yaml`), yaml);
}

beforeAll(async () => {
  requireBuilt();
  sshds = await Promise.all([startSshd(), startSshd(), startSshd()]);
  const [a, b, c] = sshds;
  home = writeOpstermHome({
    servers: { "vps-utama": a.server(), web1: a.server({ tags: ["web"] }), web2: b.server({ tags: ["web"] }), web3: c.server({ tags: ["web"] }) },
    knownHosts: sshds.map((s) => s.knownHostsLine()),
  });
  project = mkdtempSync(join(tmpdir(), "opsterm-wf-project-"));
  remote = mkdtempSync(join(tmpdir(), "opsterm-wf-remote-"));
  pingServer = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      pings.push({ method: req.method ?? "", url: req.url ?? "", body });
      res.end("OK");
    });
  });
  await new Promise<void>((r) => pingServer.listen(0, "127.0.0.1", r));
  const address = pingServer.address();
  pingUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/ping/abc`;
}, 60_000);

afterAll(async () => {
  await Promise.all(sshds.map((s) => s.stop()));
  pingServer?.close();
  home?.cleanup();
  rmSync(project, { recursive: true, force: true });
  rmSync(remote, { recursive: true, force: true });
});

const original = (dir: string) => `workflows:
  deploy-full:
    desc: "Full deployment"
    steps:
      - scp: "./docker-compose.yml"
        to: "${dir}/docker-compose.yml"
        ssh: vps-utama
      - ssh: vps-utama
        command: "cd ${dir} && cat docker-compose.yml"
        confirm: true
        wait: 1
      - command: "echo done"
`;

describe("the original workflows.yaml", () => {
  it("runs unchanged with --yes and no terminal: upload (snapshotted), remote command, local command, one run id", async () => {
    const dir = join(remote, "orig");
    mkdirSync(dir);
    writeFileSync(join(dir, "docker-compose.yml"), "old: true\n");
    writeFileSync(join(project, "docker-compose.yml"), "services:\n  app: {image: nginx}\n");
    writeFileSync(join(home.home, "workflows.yaml"), original(dir));
    const before = audit().length;
    const r = await opsterm(["run", "deploy-full", "--yes"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, "docker-compose.yml"), "utf8")).toBe("services:\n  app: {image: nginx}\n");
    expect(r.stdout).toContain("services:");
    expect(r.stdout).toMatch(/\[3\/3\] echo done\ndone\n/);
    const records = audit().slice(before);
    const runIds = new Set(records.map((x) => x.runId));
    expect(runIds.size).toBe(1);
    const runId = [...runIds][0];
    expect(records.map((x) => `${x.phase} ${x.action} ${x.server}`)).toEqual([
      "intent write vps-utama",
      "result write vps-utama",
      "event approval vps-utama",
      "intent exec vps-utama",
      "result exec vps-utama",
      "intent local local",
      "result local local",
    ]);
    expect(records.filter((x) => x.phase === "intent" || x.action === "approval").every((x) => x.approver === "flag:--yes" || x.decision === "auto-allow")).toBe(true);
    // The upload was snapshotted before and after, into the audit's git repository.
    const write = records.find((x) => x.phase === "result" && x.action === "write")!;
    expect(write.snapshot?.before).toMatch(/^[0-9a-f]{40}$/);
    const git = (...args: string[]) => execFileSync("git", ["--git-dir", join(home.home, "audit", "snapshots"), ...args], { encoding: "utf8" });
    expect(git("show", `${write.snapshot!.before}:${write.snapshot!.path}`)).toBe("old: true\n");
    expect(git("show", `${write.snapshot!.after}:${write.snapshot!.path}`)).toContain("image: nginx");
    // The run is in the history database, per step per host.
    const runs = await json<{ runs: { runId: string; status: string; exitCode: number }[] }>(["workflow", "runs"]);
    expect(runs.runs[0]).toMatchObject({ runId, status: "ok", exitCode: 0 });
    const log = await json<{ steps: { hosts: { host: string; status: string; exitCode: number | null }[] }[] }>(["workflow", "log", runId.slice(0, 8)]);
    expect(log.steps.map((s) => s.hosts.map((h) => `${h.host}:${h.status}:${h.exitCode}`))).toEqual([["vps-utama:ok:0"], ["vps-utama:ok:0"], ["local:ok:0"]]);
  }, 60_000);

  it("with no terminal and no --yes: 77 before step 1, zero intent records, the refusal recorded", async () => {
    const before = audit().length;
    const dir = join(remote, "orig");
    writeFileSync(join(dir, "docker-compose.yml"), "untouched\n");
    const r = await opsterm(["run", "deploy-full"]);
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/refused before step 1: 3 step action\(s\) need approval or confirmation and there is no terminal/);
    expect(r.stderr.trim().split("\n").filter((l) => l.startsWith("error")).length).toBe(1);
    const records = audit().slice(before);
    expect(records.filter((x) => x.phase === "intent")).toEqual([]);
    expect(records.map((x) => `${x.action} ${x.server} ${x.approver}`)).toEqual(["approval vps-utama refused:no-tty", "approval local refused:no-tty", "approval vps-utama refused:no-tty"]);
    expect(readFileSync(join(dir, "docker-compose.yml"), "utf8")).toBe("untouched\n");
    const runs = await json<{ runs: { status: string; exitCode: number }[] }>(["workflow", "runs"]);
    expect(runs.runs[0]).toMatchObject({ status: "refused", exitCode: 77 });
  }, 60_000);

  it("a terminal run and a no-terminal --yes run produce the same audit sequence", async () => {
    const sequence = (runId: string) => ofRun(runId).map((x) => `${x.phase} ${x.action} ${x.server} ${x.decision} ${x.rule} ${x.args.command} ${x.exitCode ?? ""}`);
    const before = audit().length;
    const tty = await runOnTty(["run", "deploy-full"], { ...home.env }, [
      { when: /Run it\?/, send: "y" },
      { when: /Run step 2/, send: "y" },
    ], { cwd: project });
    expect(tty.output).toContain("done");
    expect(tty.code).toBe(0);
    const ttyRun = audit()[before].runId;
    const yes = await opsterm(["run", "deploy-full", "--yes"]);
    expect(yes.code).toBe(0);
    const yesRun = audit().at(-1)!.runId;
    expect(ttyRun).not.toBe(yesRun);
    expect(sequence(ttyRun).length).toBe(7);
    expect(sequence(ttyRun)).toEqual(sequence(yesRun));
    // Only who approved differs: the person at the terminal, or the flag.
    expect(new Set(ofRun(ttyRun).map((x) => x.approver).filter(Boolean))).toEqual(new Set(["tty:root"]));
    expect(new Set(ofRun(yesRun).map((x) => x.approver).filter(Boolean))).toEqual(new Set(["flag:--yes"]));
  }, 90_000);
});

describe("workflows/NAME.yaml on three hosts", () => {
  it("--dry-run shows every step on every host with its decision; a rejected step refuses the whole workflow before step 1", async () => {
    const dir = join(remote, "reject");
    mkdirSync(dir);
    writeWorkflow(
      "dangerous",
      `targets: "@web"
steps:
  - name: mark
    ssh: "touch ${dir}/marked-{{host}}"
  - name: wipe
    ssh: "rm -rf /"
`,
    );
    const before = audit().length;
    const dry = await opsterm(["run", "dangerous", "--dry-run"]);
    expect(dry.code, dry.stdout + dry.stderr).toBe(77);
    const rows = dry.stdout.trimEnd().split("\n");
    expect(rows).toHaveLength(6);
    expect(rows.filter((l) => /^\s+2\s+web\d\s+reject\s+hard\./.test(l))).toHaveLength(3);
    expect(rows.filter((l) => /^\s+1\s+web\d\s+approval-required/.test(l)), dry.stdout).toHaveLength(3);
    expect(audit().length).toBe(before);

    const r = await opsterm(["run", "dangerous", "--yes"]);
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/the policy rejects step 2 \(wipe\)/);
    expect(existsSync(join(dir, "marked-web1"))).toBe(false);
    const records = audit().slice(before);
    expect(records.filter((x) => x.phase === "intent")).toEqual([]);
    expect(records.map((x) => `${x.action} ${x.decision}`)).toEqual(["approval reject", "approval reject", "approval reject"]);
  }, 60_000);

  it("failed hosts drop out, always runs after the failure and sees run.failed, and --resume runs only what failed", async () => {
    const dir = join(remote, "resume");
    mkdirSync(dir);
    writeFileSync(join(dir, "broken-web2"), "");
    writeWorkflow(
      "rolling",
      `vars:
  dir: "${dir}"
targets: "@web"
steps:
  - name: first
    ssh: "touch {{dir}}/s1-{{host}}"
  - name: flaky
    ssh: "test ! -e {{dir}}/broken-{{host}}"
  - name: after
    ssh: "touch {{dir}}/s3-{{host}}"
  - name: cleanup
    local: "echo failed={{run.failed}} >> {{dir}}/cleanup"
    always: true
`,
    );
    const r = await opsterm(["run", "rolling", "--yes", "--json"]);
    expect(r.code).toBe(1);
    const record = JSON.parse(r.stdout) as { runId: string; status: string; steps: { hosts: { host: string; status: string }[] }[] };
    expect(record.status).toBe("failed");
    expect(record.steps.map((s) => s.hosts.map((h) => `${h.host}:${h.status}`).join(" "))).toEqual([
      "web1:ok web2:ok web3:ok",
      "web1:ok web2:failed web3:ok",
      "web2:dropped web1:ok web3:ok",
      "local:ok",
    ]);
    expect(["s3-web1", "s3-web3"].every((f) => existsSync(join(dir, f)))).toBe(true);
    expect(existsSync(join(dir, "s3-web2"))).toBe(false);
    expect(readFileSync(join(dir, "cleanup"), "utf8")).toBe("failed=true\n");

    // Fixed: resume runs step 2 and 3 on web2 only (and the cleanup).
    rmSync(join(dir, "broken-web2"));
    for (const h of ["web1", "web2", "web3"]) rmSync(join(dir, `s1-${h}`));
    const resumed = await opsterm(["run", "rolling", "--yes", "--resume", record.runId]);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    const newRun = audit().at(-1)!.runId;
    expect(ofRun(newRun).filter((x) => x.phase === "intent").map((x) => `${x.server} ${x.args.command}`)).toEqual([
      `web2 test ! -e ${dir}/broken-web2`,
      `web2 touch ${dir}/s3-web2`,
      `local echo failed=false >> ${dir}/cleanup`,
    ]);
    expect(["s1-web1", "s1-web2", "s1-web3"].some((f) => existsSync(join(dir, f)))).toBe(false);
    expect(existsSync(join(dir, "s3-web2"))).toBe(true);
    const log = await json<{ resumedFrom: string; status: string }>(["workflow", "log", newRun]);
    expect(log).toMatchObject({ resumedFrom: record.runId, status: "ok" });
  }, 90_000);

  it("retries with backoff are visible in the output and the log", async () => {
    const dir = join(remote, "retry");
    mkdirSync(dir);
    writeWorkflow(
      "retrying",
      `steps:
  - name: flaky
    local: "test -e ${dir}/second || { touch ${dir}/second; exit 3; }"
    retries: 2
    backoff: 0.2
`,
    );
    const r = await opsterm(["run", "retrying", "--yes"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/retry 1\/2 on local in 0\.2 s \(exit 3\)/);
    expect(r.stdout).toMatch(/ok local \(\d+\.\d s, 2 attempts\)/);

    writeWorkflow("slow", `steps:\n  - local: "sleep 20"\n    timeout: 1\n  - local: "touch ${dir}/after-timeout"\n`);
    const slow = await opsterm(["run", "slow", "--yes", "--json"]);
    expect(slow.code).toBe(1);
    const record = JSON.parse(slow.stdout) as { steps: { hosts: { status: string; error?: string }[] }[] };
    expect(record.steps[0].hosts[0]).toMatchObject({ status: "timeout", error: "E_WORKFLOW_TIMEOUT: the step did not finish within 1 s" });
    expect(record.steps[1].hosts[0].status).toBe("skipped");
    expect(existsSync(join(dir, "after-timeout"))).toBe(false);
  }, 60_000);
});

describe("--cron", () => {
  it("is silent on success and pings start and exit code", async () => {
    const token = "ghp_" + "x7Kq2mZ9pL4vR8sT1wY6nB3cD5fG0hJ2aE4u";
    writeWorkflow("nightly", `notify: "${pingUrl}"\nvars: {code: "0"}\nsteps:\n  - name: work\n    local: "echo working ${token}; exit {{code}}"\n`);
    pings.length = 0;
    const ok = await opsterm(["run", "nightly", "--cron", "--yes"]);
    expect(ok).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(pings.map((p) => `${p.method} ${p.url}`)).toEqual(["GET /ping/abc/start", "POST /ping/abc/0"]);

    pings.length = 0;
    const bad = await opsterm(["run", "nightly", "--cron", "--yes", "--var", "code=4"]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toContain("working");
    expect(bad.stderr).toMatch(/failed local exit 4/);
    expect(pings.map((p) => `${p.method} ${p.url}`)).toEqual(["GET /ping/abc/start", "POST /ping/abc/1"]);
    expect(pings[1].body).toContain("working");
    // The report goes to cron's mail and the monitor: secrets in the output are masked there too.
    expect(bad.stderr + pings[1].body).not.toContain(token);
  }, 60_000);

  it("a held lock gives 75; a dead holder's lock is taken over; a failed ping never fails the run", async () => {
    writeWorkflow("locked", `notify: "http://127.0.0.1:1/nothing"\nsteps:\n  - local: "echo hi"\n`);
    const holder = spawn("sleep", ["60"], { stdio: "ignore" });
    mkdirSync(join(home.home, "workflow-locks"), { recursive: true });
    const lock = join(home.home, "workflow-locks", "locked.lock");
    writeFileSync(lock, JSON.stringify({ pid: holder.pid, runId: "other-run", since: "earlier" }));
    const held = await opsterm(["run", "locked", "--cron"]);
    expect(held.code).toBe(75);
    expect(held.stderr).toMatch(/already running \(pid \d+, run other-run/);
    holder.kill("SIGKILL");
    await new Promise((r) => holder.once("exit", r));
    const r = await opsterm(["run", "locked", "--cron"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/notify: http:\/\/127\.0\.0\.1:1\/nothing\/start failed/);
    expect(existsSync(lock)).toBe(false);
  }, 60_000);

  it("steps that ask need --yes under cron even with a terminal-less confirm: 77 and nothing runs", async () => {
    writeWorkflow("asks", `steps:\n  - confirm: "Really?"\n  - local: "touch ${remote}/asked"\n`);
    const r = await opsterm(["run", "asks", "--cron"]);
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/no terminal to ask on \(--cron\)/);
    expect(existsSync(join(remote, "asked"))).toBe(false);
  }, 60_000);
});

describe("${vault:NAME} in a step", () => {
  it("reaches the server resolved, while the audit log and the run record keep the placeholder", async () => {
    const dir = join(remote, "vault");
    mkdirSync(dir);
    const env = { OPSTERM_VAULT_PASSWORD: "workflow test passphrase" };
    expect((await opsterm(["vault", "init", "--log-n", "15"], { env })).code).toBe(0);
    const secret = "s3cr3t-" + Math.random().toString(36).slice(2);
    expect((await opsterm(["vault", "set", "db_password"], { env, input: secret })).code).toBe(0);
    writeWorkflow("secretive", `targets: web1\nsteps:\n  - ssh: "printf %s \${vault:db_password} > ${dir}/pw"\n`);
    const before = audit().length;
    const r = await opsterm(["run", "secretive", "--yes", "--json"], { env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, "pw"), "utf8")).toBe(secret);
    const records = audit().slice(before);
    expect(records.find((x) => x.phase === "intent")?.args.command).toBe(`printf %s \${vault:db_password} > ${dir}/pw`);
    expect(JSON.stringify(records) + r.stdout + readFileSync(join(home.home, "history.journal"), "utf8")).not.toContain(secret);
    // An unknown name stops the workflow before step 1 (78), nothing recorded as an intent.
    writeWorkflow("secretive", `targets: web1\nsteps:\n  - ssh: "touch ${dir}/ran"\n  - ssh: "echo \${vault:nope}"\n`);
    const unknown = await opsterm(["run", "secretive", "--yes"], { env });
    expect(unknown.code).toBe(78);
    expect(existsSync(join(dir, "ran"))).toBe(false);
  }, 90_000);
});

describe("workflow validate, list, show", () => {
  it("a malformed file is 65, a reference to an unknown server 78, both with file:line:col; list and show read both formats", async () => {
    const other = writeOpstermHome({ servers: { web1: { host: "127.0.0.1", port: 1 } } });
    const run = (args: string[]) => opstermAsync(args, { home: other.home, cwd: project, env: other.env });
    mkdirSync(join(other.home, "workflows"));
    writeFileSync(join(other.home, "workflows", "bad.yaml"), "steps:\n  - ssh: uptime\n    local: uptime\n    targets: web1\n");
    const bad = await run(["workflow", "validate"]);
    expect(bad.code).toBe(65);
    expect(bad.stderr).toContain(`${join(other.home, "workflows", "bad.yaml")}:3:5: a step has exactly one action, this one has ssh and local`);
    writeFileSync(join(other.home, "workflows", "bad.yaml"), "steps:\n  - ssh: uptime\n    targets: web9\n");
    const ref = await run(["workflow", "validate", "bad"]);
    expect(ref.code).toBe(78);
    expect(ref.stderr).toMatch(new RegExp(`bad\\.yaml:2:5: targets: Unknown server "web9", did you mean "web1"\\?`));
    const refRun = await run(["run", "bad", "--yes"]);
    expect(refRun.code).toBe(78);
    writeFileSync(join(other.home, "workflows", "bad.yaml"), "desc: fixed\nsteps:\n  - ssh: uptime\n    targets: web1\n");
    writeFileSync(join(other.home, "workflows.yaml"), original("/tmp/x"));
    const ok = await run(["workflow", "validate"]);
    expect(ok.code).toBe(78); // vps-utama is not in this inventory
    expect(ok.stderr).toMatch(/workflows\.yaml:\d+:\d+: targets: Unknown server "vps-utama"/);
    const list = JSON.parse((await run(["workflow", "list", "--json"])).stdout) as { workflows: { name: string; format: string; steps: number }[] };
    expect(list.workflows.map((w) => `${w.name}:${w.format}:${w.steps}`)).toEqual(["bad:file:1", "deploy-full:original:3"]);
    const show = await run(["workflow", "show", "deploy-full"]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/2\. exec cd \/tmp\/x && cat docker-compose\.yml {2}\(on vps-utama, confirm, then wait 1 s\)/);
    const unknown = await run(["run", "deploy-ful"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('No workflow named "deploy-ful", did you mean "deploy-full"?');
    other.cleanup();
  }, 60_000);
});

describe("Ctrl-C", () => {
  it("always steps run after an interrupt, then opsterm exits 130", async () => {
    const dir = join(remote, "interrupt");
    mkdirSync(dir);
    writeWorkflow("long", `steps:\n  - local: "sleep 30"\n  - local: "touch ${dir}/never"\n  - local: "touch ${dir}/cleaned"\n    always: true\n`);
    const child = spawn(binaryPath, ["run", "long", "--yes"], { cwd: project, env: { ...home.env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const deadline = Date.now() + 20_000;
    while (!audit().some((x) => x.phase === "intent" && x.args.command === "sleep 30" && !ofRun(x.runId).some((y) => y.phase === "result")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGINT");
    const code = await new Promise<number | null>((r) => child.once("close", r));
    expect(code).toBe(130);
    expect(existsSync(join(dir, "cleaned"))).toBe(true);
    expect(existsSync(join(dir, "never"))).toBe(false);
    expect(out).toMatch(/interrupted/);
  }, 60_000);
});

describe("performance", () => {
  it("--dry-run of 10 steps on 50 hosts: previewing its 500 actions adds at most 150 ms of CPU to loading and checking the workflow", async () => {
    const serversYaml = "servers:\n" + Array.from({ length: 50 }, (_, i) => `  node${i}:\n    host: 127.0.0.1\n    port: ${10_000 + i}\n    tags: [fleet]\n`).join("");
    const big = writeOpstermHome({ serversYaml });
    const steps = Array.from({ length: 10 }, (_, i) => `  - ssh: "systemctl is-active app-${i}"`).join("\n");
    mkdirSync(join(big.home, "workflows"));
    writeFileSync(join(big.home, "workflows", "fleet.yaml"), `targets: "@fleet"\nsteps:\n${steps}\n`);
    // bash's `times`: the CPU time of the command it ran (wall time on a loaded machine measures the queue).
    const cpu = (...args: string[]) => {
      const r = spawnSync("bash", ["-c", '"$@" > "$OUT"; echo "rc=$?"; times', "_", binaryPath, ...args], { env: { ...big.env, OUT: join(big.home, "out") }, encoding: "utf8" });
      expect(r.stdout).toContain("rc=0");
      const [user, sys] = r.stdout.trim().split("\n").at(-1)!.split(/\s+/).map((t) => {
        const m = /(\d+)m([\d.]+)s/.exec(t)!;
        return Number(m[1]) * 60 + Number(m[2]);
      });
      return (user + sys) * 1000;
    };
    const validate: number[] = [];
    const dry: number[] = [];
    for (let i = 0; i < 3; i++) {
      validate.push(cpu("workflow", "validate", "fleet"));
      dry.push(cpu("run", "fleet", "--dry-run"));
    }
    expect(readFileSync(join(big.home, "out"), "utf8").trim().split("\n")).toHaveLength(500);
    // The same start-up, files and inventory on both sides: the difference is the policy and the 500 previews.
    expect(Math.min(...dry) - Math.min(...validate)).toBeLessThanOrEqual(150);
    big.cleanup();
  }, 90_000);
});
