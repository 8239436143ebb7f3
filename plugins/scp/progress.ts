/**
 * A one-line progress bar on stderr, only when stderr is a terminal and the transfer is large;
 * redrawn at most ten times a second, erased when done.
 */
import { formatBytes } from "../../src/lib/format.ts";

/** Transfers smaller than this finish before a bar would be worth drawing. */
export const PROGRESS_MIN_BYTES = 1024 * 1024;

export interface Progress {
  add(bytes: number): void;
  done(): void;
}

const NONE: Progress = { add() {}, done() {} };

export function createProgress(stream: NodeJS.WriteStream, enabled: boolean, label: string, total: number | undefined, now: () => number = Date.now): Progress {
  if (!enabled || (total !== undefined && total < PROGRESS_MIN_BYTES)) return NONE;
  const started = now();
  let bytes = 0;
  let last = 0;
  let drawn = false;
  const draw = () => {
    const elapsed = Math.max((now() - started) / 1000, 0.001);
    const rate = `${formatBytes(Math.round(bytes / elapsed))}/s`;
    const width = Math.max(10, Math.min(30, (stream.columns ?? 80) - label.length - 40));
    let line: string;
    if (total) {
      const ratio = Math.min(bytes / total, 1);
      const full = Math.round(ratio * width);
      line = `${label} [${"#".repeat(full)}${"-".repeat(width - full)}] ${String(Math.floor(ratio * 100)).padStart(3)}% ${formatBytes(bytes)} ${rate}`;
    } else {
      line = `${label} ${formatBytes(bytes)} ${rate}`;
    }
    stream.write(`\r\x1b[2K${line}`);
    drawn = true;
  };
  return {
    add(n) {
      bytes += n;
      // Unknown sizes (stdin) only get a bar once they are big enough to be worth it.
      if (total === undefined && bytes < PROGRESS_MIN_BYTES) return;
      const t = now();
      if (t - last >= 100) {
        last = t;
        draw();
      }
    },
    done() {
      if (drawn) stream.write("\r\x1b[2K");
    },
  };
}
