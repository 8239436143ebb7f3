/**
 * Terminal output for answers: a spinner on stderr until the first token, and a line-by-line
 * markdown renderer for TTYs (plain text passes through untouched when piped).
 */
export interface Spinner {
  stop(): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Draws on stderr only when it is a terminal; stop() erases it. */
export function startSpinner(stderr: NodeJS.WriteStream, enabled: boolean, label = "thinking"): Spinner {
  if (!enabled) return { stop() {} };
  let i = 0;
  const draw = () => stderr.write(`\r${FRAMES[i++ % FRAMES.length]} ${label}…`);
  draw();
  const timer = setInterval(draw, 80);
  timer.unref?.();
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      stderr.write("\r\x1b[K");
    },
  };
}

// The markdown renderer is shared with explain-last (plugins/shell): it lives in src/lib.
export { markdownSink, plainSink, type TextSink } from "../../src/lib/markdown.ts";
