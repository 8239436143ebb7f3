/**
 * vitest globalSetup: every test file's temp dirs go under one TMPDIR for this run, removed at
 * the end, so `npm test` leaves nothing behind in /tmp (thousands of dirs per run otherwise).
 * Set OPSTERM_KEEP_TEST_TMP=1 to keep it for a post-mortem.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

export default function setup(): () => void {
  // Short prefix: unix socket paths (tmux) under it must stay below ~100 bytes.
  const dir = mkdtempSync(join(tmpdir(), "opsterm-vt-"));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    if (process.env.OPSTERM_KEEP_TEST_TMP) process.stderr.write(`test temp dirs kept in ${dir}\n`);
    else {
      try {
        rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
      } catch (error) {
        // A straggling child process may still write there; never fail the run over cleanup.
        process.stderr.write(`could not remove test temp dir ${dir}: ${(error as Error).message}\n`);
      }
    }
  };
}
