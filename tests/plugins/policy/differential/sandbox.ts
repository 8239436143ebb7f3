/**
 * Ground truth for the policy: run commands for real under `strace -f` inside a throwaway
 * bubblewrap sandbox (read-only /, tmpfs /tmp, an empty network namespace, no capabilities,
 * fake /home, /root, /etc/shadow and /var/log with planted secrets) and report every command
 * that wrote, renamed, unlinked or chmod'ed anything, set the clock, changed links or routes,
 * opened a non-unix socket, read a planted secret, or ran over its time limit.
 *
 * One bwrap per batch: a small bash driver inside it runs each command (`timeout -s KILL`,
 * strace into a per-command trace file) so thousands of commands take seconds, not minutes.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const MARKER = "PLANTED-SECRET-7f3a9c";

/** Secret files planted in the sandbox, by their path inside it. */
export const PLANTED = [
  "/home/alice/.netrc",
  "/home/alice/.ssh/id_ed25519",
  "/home/alice/.env",
  "/home/alice/notes.txt",
  "/home/bob/.aws/credentials",
  "/root/.ssh/id_rsa",
  "/root/.bash_history",
  "/etc/shadow",
  "/tmp/work/.env",
  "/tmp/work/dir/.env",
  "/srv/app/.env",
  "/srv/app/config/credentials.yml",
];

export interface Job {
  command: string;
  /** Seconds the command may run (2, plus the bound of a counted interval such as `vmstat 1 3`). */
  limit: number;
}

export interface Violation {
  command: string;
  kind: "write" | "clock" | "netlink" | "socket" | "secret" | "time" | "system";
  detail: string;
}

const SYSCALLS = [
  "open", "openat", "creat", "truncate", "ftruncate", "unlink", "unlinkat", "rename", "renameat", "renameat2", "chmod", "fchmod", "fchmodat", "chown", "fchown", "fchownat",
  "lchown", "mkdir", "mkdirat", "rmdir", "link", "linkat", "symlink", "symlinkat", "utimensat", "utimes", "futimesat", "clock_settime", "settimeofday", "clock_adjtime", "adjtimex",
  "socket", "connect", "sendmsg", "sendto", "mount", "umount2", "sethostname", "setdomainname", "swapon", "swapoff", "reboot", "init_module", "finit_module", "delete_module", "sync", "syncfs",
].join(",");

const DRIVER = `#!/bin/bash
# driver JOBS OUT: JOBS holds NUL-separated pairs (limit, command).
jobs="$1"; out="$2"; i=0
while IFS= read -r -d '' limit && IFS= read -r -d '' cmd; do
  cd /tmp/work || exit 1
  s=$EPOCHREALTIME
  timeout -s KILL "$limit" strace -f -qq -y -s 256 -o "$out/$i.trace" -e trace=${SYSCALLS} bash -c "$cmd" </dev/null >"$out/$i.out" 2>&1
  rc=$?
  e=$EPOCHREALTIME
  printf '%s %s %s %s\\n' "$i" "$rc" "$s" "$e" >> "$out/index"
  i=$((i+1))
done < "$jobs"
`;

/** True when bwrap and strace can run here (the test needs them; CI installs both). */
export function sandboxAvailable(): boolean {
  const r = spawnSync("bwrap", ["--ro-bind", "/", "/", "--unshare-net", "--cap-drop", "ALL", "--dev", "/dev", "--proc", "/proc", "strace", "-f", "-qq", "-o", "/dev/null", "true"], { encoding: "utf8", timeout: 20_000 });
  return r.status === 0;
}

/** The fake tree: homes, /root, /etc/shadow, /srv/app, /var/log and the working directory. */
function plant(root: string): void {
  const put = (path: string, content: string) => {
    const full = join(root, "fs", path);
    mkdirSync(join(full, ".."), { recursive: true });
    writeFileSync(full, content);
  };
  for (const p of PLANTED) put(p, p === "/etc/shadow" ? `root:$6$${MARKER}$x:19000:0:99999:7:::\n` : `password=${MARKER}\n`);
  put("/tmp/work/a.txt", "alpha\nbeta\ngamma\n");
  put("/tmp/work/b.txt", "alpha\nBETA\ngamma\ndelta\n");
  put("/tmp/work/dir/x.log", "error one\nwarn two\n");
  put("/var/log/syslog", "Dec  5 07:00:00 host app[1]: error: disk\nDec  5 07:00:01 host app[1]: warn: slow\n");
  put("/var/log/nginx/error.log", "2026/12/05 error upstream\n");
  put("/var/log/app/app.log", "error\nok\n");
  put("/srv/app/README", "app\n");
  mkdirSync(join(root, "fs", "empty"), { recursive: true });
  chmodSync(join(root, "fs", "home", "alice", ".ssh"), 0o700);
}

function bwrapArgs(root: string, out: string): string[] {
  const fs = join(root, "fs");
  return [
    "--ro-bind", "/", "/",
    "--tmpfs", "/tmp",
    "--ro-bind", join(fs, "tmp", "work"), "/tmp/work",
    "--ro-bind", join(fs, "empty"), "/tmp/empty",
    "--bind", out, "/tmp/out",
    "--ro-bind", join(root, "driver.sh"), "/tmp/driver.sh",
    "--ro-bind", join(root, "jobs"), "/tmp/jobs",
    "--ro-bind", join(fs, "home"), "/home",
    "--ro-bind", join(fs, "root"), "/root",
    "--ro-bind", join(fs, "srv"), "/srv",
    "--ro-bind", join(fs, "var", "log"), "/var/log",
    "--ro-bind", join(fs, "etc", "shadow"), "/etc/shadow",
    "--unshare-net", "--unshare-pid", "--unshare-uts", "--unshare-ipc",
    "--cap-drop", "ALL", "--die-with-parent", "--new-session",
    "--dev", "/dev", "--proc", "/proc",
    "--setenv", "HOME", "/home/alice", "--setenv", "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "--setenv", "LANG", "C", "--unsetenv", "OPSTERM_HOME",
    "--chdir", "/tmp/work",
    "bash", "/tmp/driver.sh", "/tmp/jobs", "/tmp/out",
  ];
}

/** Runs one batch in one sandbox; resolves with the violations found. */
export async function runBatch(jobs: Job[]): Promise<{ violations: Violation[]; ran: number }> {
  const root = mkdtempSync(join(tmpdir(), "policy-diff-"));
  try {
    plant(root);
    const out = join(root, "out");
    mkdirSync(out);
    writeFileSync(join(root, "driver.sh"), DRIVER);
    writeFileSync(join(root, "jobs"), jobs.map((j) => `${j.limit}\0${j.command}\0`).join(""));
    await new Promise<void>((resolve, reject) => {
      const child = spawn("bwrap", bwrapArgs(root, out), { stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      child.stderr.on("data", (d) => (err += d));
      child.on("error", reject);
      child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`bwrap exited ${code}: ${err.slice(0, 500)}`))));
    });
    const index = readFileSync(join(out, "index"), "utf8").trim().split("\n").filter(Boolean);
    const violations: Violation[] = [];
    for (const line of index) {
      const [i, rc, s, e] = line.split(" ");
      const job = jobs[Number(i)];
      const seconds = Number(e) - Number(s);
      if (rc === "137" || seconds > job.limit + 0.5) violations.push({ command: job.command, kind: "time", detail: `ran ${seconds.toFixed(2)} s (limit ${job.limit} s, exit ${rc})` });
      const output = readFileSync(join(out, `${i}.out`), "utf8");
      if (output.includes(MARKER)) violations.push({ command: job.command, kind: "secret", detail: "a planted secret appeared in the output" });
      let trace = "";
      try {
        trace = readFileSync(join(out, `${i}.trace`), "utf8");
      } catch {
        // strace killed before it wrote: the time check above reports it.
      }
      for (const v of traceViolations(trace)) violations.push({ command: job.command, ...v });
    }
    return { violations, ran: index.length };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const WRITE_FLAGS = /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND/;
/** Opens for writing that change nothing: the bit bucket, the terminal, the console (pidof's diagnostics). */
const HARMLESS_WRITES = /^"(\/dev\/null|\/dev\/tty|\/dev\/pts\/\d+|\/dev\/console)"/;

/** Violations in one strace log. */
export function traceViolations(trace: string): Omit<Violation, "command">[] {
  const found: Omit<Violation, "command">[] = [];
  for (const raw of trace.split("\n")) {
    const line = raw.replace(/^\d+\s+/, "");
    const m = /^(\w+)\((.*)\)\s+=\s+(-?\d+|\?)/.exec(line);
    if (!m) continue;
    const [, call, args, result] = m;
    switch (call) {
      case "open":
      case "openat":
      case "creat": {
        const path = openedPath(call, args);
        // O_TMPFILE is an unnamed file that disappears with its descriptor (apt-cache's cache): nothing persists.
        if (call === "creat" || (WRITE_FLAGS.test(args) && !/O_TMPFILE/.test(args))) {
          if (!HARMLESS_WRITES.test(`"${path}"`)) found.push({ kind: "write", detail: line.slice(0, 200) });
        } else if (Number(result) >= 0 && PLANTED.includes(path)) {
          found.push({ kind: "secret", detail: line.slice(0, 200) });
        }
        break;
      }
      case "clock_settime":
      case "settimeofday":
      case "clock_adjtime":
        found.push({ kind: "clock", detail: line.slice(0, 200) });
        break;
      case "adjtimex":
        if (!/modes=0[,}]/.test(args)) found.push({ kind: "clock", detail: line.slice(0, 200) });
        break;
      case "socket":
        if (!/AF_(UNIX|LOCAL|NETLINK)/.test(args)) found.push({ kind: "socket", detail: line.slice(0, 200) });
        break;
      case "connect":
        if (/sa_family=AF_INET6?\b/.test(args)) found.push({ kind: "socket", detail: line.slice(0, 200) });
        break;
      case "sendmsg":
      case "sendto":
        // iproute2 probes for RTM_NEWLINK support with an empty request for ifindex 0 (it changes nothing).
        if (/nlmsg_len=32, nlmsg_type=RTM_NEWLINK,.*ifi_index=0, ifi_flags=0, ifi_change=0\}/.test(args)) break;
        if (/nlmsg_type=RTM_(NEW|DEL|SET)|SOCK_DESTROY|nlmsg_type=0x15\b/.test(args)) found.push({ kind: "netlink", detail: line.slice(0, 200) });
        break;
      case "mount":
      case "umount2":
      case "sethostname":
      case "setdomainname":
      case "swapon":
      case "swapoff":
      case "reboot":
      case "init_module":
      case "finit_module":
      case "delete_module":
      case "sync":
      case "syncfs":
        found.push({ kind: "system", detail: line.slice(0, 200) });
        break;
      case "mkdir":
        // procps top creates its (empty) config directory in the caller's own home on start.
        if (/^"\/home\/alice\/\.config(\/procps)?"/.test(args)) break;
        found.push({ kind: "write", detail: line.slice(0, 200) });
        break;
      default:
        found.push({ kind: "write", detail: line.slice(0, 200) });
    }
  }
  return found;
}

/** The absolute path an open call names (strace -y shows a directory fd's path: `4</tmp/work/dir>`). */
function openedPath(call: string, args: string): string {
  const m = call === "openat" ? /^(?:AT_FDCWD(?:<([^>]*)>)?|\d+<([^>]*)>), "([^"]*)"/.exec(args) : /^()()"([^"]*)"/.exec(args);
  if (!m) return "";
  const name = m[3];
  if (name.startsWith("/")) return normalise(name);
  return normalise(`${m[1] || m[2] || "/tmp/work"}/${name}`);
}

function normalise(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}

/** Runs jobs in `parallel` sandboxes of `batch` commands each. */
export async function runAll(jobs: Job[], options: { batch?: number; parallel?: number } = {}): Promise<{ violations: Violation[]; ran: number }> {
  const batch = options.batch ?? 400;
  const parallel = options.parallel ?? 2;
  const batches: Job[][] = [];
  for (let i = 0; i < jobs.length; i += batch) batches.push(jobs.slice(i, i + batch));
  const violations: Violation[] = [];
  let ran = 0;
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const b = batches[next++];
      const r = await runBatch(b);
      violations.push(...r.violations);
      ran += r.ran;
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, batches.length) }, worker));
  return { violations, ran };
}
