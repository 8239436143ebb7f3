/**
 * A line-by-line markdown renderer for answers on a terminal (ask, explain-last): headings,
 * bullets, bold, inline code, fenced code. Plain text passes through untouched when piped.
 */
import type { Style } from "./style.ts";

export interface TextSink {
  push(text: string): void;
  end(): void;
}

/** Passes text through as it arrives (pipes, files). */
export function plainSink(write: (s: string) => void): TextSink {
  let last = "";
  return {
    push(text) {
      if (!text) return;
      write(text);
      last = text;
    },
    end() {
      if (last && !last.endsWith("\n")) write("\n");
    },
  };
}

/** Renders complete lines as markdown: headings, bullets, bold, inline code, fenced code. */
export function markdownSink(write: (s: string) => void, style: Style): TextSink {
  let buffer = "";
  let inFence = false;
  const line = (text: string) => {
    if (/^\s*(```|~~~)/.test(text)) {
      inFence = !inFence;
      write(style.dim(text) + "\n");
      return;
    }
    if (inFence) return void write(style.cyan(text) + "\n");
    write(renderLine(text, style) + "\n");
  };
  return {
    push(text) {
      buffer += text;
      let nl = buffer.indexOf("\n");
      while (nl !== -1) {
        line(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf("\n");
      }
    },
    end() {
      if (buffer) line(buffer);
      buffer = "";
    },
  };
}

function renderLine(text: string, style: Style): string {
  const heading = /^(#{1,6})\s+(.*)$/.exec(text);
  if (heading) return style.bold(inline(heading[2], style));
  const bullet = /^(\s*)[-*+]\s+(.*)$/.exec(text);
  if (bullet) return `${bullet[1]}• ${inline(bullet[2], style)}`;
  return inline(text, style);
}

function inline(text: string, style: Style): string {
  return text
    .replace(/`([^`]+)`/g, (_, code: string) => style.cyan(code))
    .replace(/\*\*([^*]+)\*\*/g, (_, b: string) => style.bold(b));
}
