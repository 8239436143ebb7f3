/**
 * One run at a time per workflow (`--cron`): a lock file holding the holder's pid and process
 * start time. A lock whose process is gone (or whose pid now belongs to another process) is taken
 * over: liveness, not age, decides — a long deployment keeps its lock for as long as it runs.
 * Check-and-take-over happens under lib/lock.ts's lock, so two takers cannot both win.
 */
import { closeSync, constants, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { TemporaryError } from "../../src/kernel/index.ts";
import { ensureDir } from "../../src/lib/atomic-write.ts";
import { READ_LIMITS, readBoundedText } from "../../src/lib/bounded-read.ts";
import { withLock } from "../../src/lib/lock.ts";

interface Holder {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: tells a reused pid from the holder. */
  start?: string;
  runId: string;
  since: string;
}

function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

export function alive(holder: Pick<Holder, "pid" | "start">): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const now = processStart(holder.pid);
  return !(holder.start && now && now !== holder.start);
}

export function lockPath(dataDir: string, workflow: string): string {
  return join(dataDir, "workflow-locks", `${workflow}.lock`);
}

/** Takes the workflow's lock or throws E_WORKFLOW_LOCKED (75). Returns the release function. */
export async function acquireRunLock(dataDir: string, workflow: string, runId: string): Promise<() => void> {
  const path = lockPath(dataDir, workflow);
  ensureDir(join(dataDir, "workflow-locks"));
  const me: Holder = { pid: process.pid, start: processStart(process.pid), runId, since: new Date().toISOString() };
  await withLock(path, () => {
    let holder: Holder | undefined;
    try {
      holder = JSON.parse(readBoundedText(path, { maxBytes: READ_LIMITS.json }) ?? "null") as Holder | undefined;
    } catch {
      holder = undefined; // a torn or foreign file: nobody can be holding it
    }
    if (holder && typeof holder.pid === "number" && holder.pid !== process.pid && alive(holder)) {
      throw new TemporaryError("E_WORKFLOW_LOCKED", `Workflow "${workflow}" is already running (pid ${holder.pid}, run ${holder.runId}, since ${holder.since})`, {
        hint: "This run was skipped; the next one starts when the current one has finished",
      });
    }
    try {
      unlinkSync(path);
    } catch {
      // none there
    }
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      writeSync(fd, JSON.stringify(me) + "\n");
    } finally {
      closeSync(fd);
    }
  }, { timeoutMs: 15_000 });
  return () => {
    try {
      const now = JSON.parse(readFileSync(path, "utf8")) as Holder;
      if (now.pid === me.pid && now.runId === runId) unlinkSync(path);
    } catch {
      // already gone
    }
  };
}
