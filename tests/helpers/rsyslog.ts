/**
 * A real rsyslogd for the audit witness tests: its own config, its own unix socket (imuxsock, the
 * datagram socket /dev/log would be) and its own output file, in a temp dir. No system files are
 * touched. `lines()` reads what it wrote; `waitFor()` polls until a line shows up (rsyslog writes
 * asynchronously).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RsyslogHandle {
  dir: string;
  socket: string;
  file: string;
  lines(): string[];
  waitFor(predicate: (line: string) => boolean, ms?: number): Promise<string>;
  stop(): Promise<void>;
}

export async function startRsyslog(): Promise<RsyslogHandle> {
  const dir = mkdtempSync(join(tmpdir(), "opsterm-rsyslog-"));
  const socket = join(dir, "log.sock");
  const file = join(dir, "auth.log");
  const conf = join(dir, "rsyslog.conf");
  writeFileSync(
    conf,
    [
      `global(workDirectory="${dir}")`,
      `module(load="imuxsock" SysSock.Use="off")`,
      `input(type="imuxsock" Socket="${socket}" CreatePath="on")`,
      // What a Debian system does with auth.*: the traditional file format.
      `auth.* action(type="omfile" file="${file}" template="RSYSLOG_TraditionalFileFormat" flushOnTXEnd="on" asyncWriting="off")`,
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn("rsyslogd", ["-n", "-f", conf, "-i", join(dir, "rsyslogd.pid")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const deadline = Date.now() + 15_000;
  while (!existsSync(socket)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`rsyslogd did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const lines = () => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []);
  return {
    dir,
    socket,
    file,
    lines,
    async waitFor(predicate, ms = 15_000) {
      const end = Date.now() + ms;
      for (;;) {
        const hit = lines().find(predicate);
        if (hit) return hit;
        if (Date.now() > end) throw new Error(`rsyslog never wrote the expected line; it has:\n${lines().join("\n")}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
