/**
 * Incremental Server-Sent Events parser for chat-completion streams. Bytes go in as they arrive;
 * complete events come out. Robust to UTF-8 sequences and lines split across chunks, `\r\n` / `\r`
 * line ends, comments, unknown fields and a final event without its trailing blank line.
 */

export interface SseEvent {
  event?: string;
  data: string;
}

export interface SseParser {
  /** Feeds a chunk of the body; returns the events it completed. */
  push(chunk: Uint8Array | string): SseEvent[];
  /** End of body: returns the last event if it was not followed by a blank line. */
  end(): SseEvent[];
}

export function createSseParser(): SseParser {
  const decoder = new TextDecoder("utf-8");
  let buffer = "";
  // A chunk that ends in "\r" may be half of "\r\n": the "\n" must not start an empty line.
  let skipLeadingLf = false;
  let data: string[] = [];
  let eventName: string | undefined;

  function line(text: string, out: SseEvent[]): void {
    if (text === "") {
      if (data.length) out.push({ event: eventName, data: data.join("\n") });
      data = [];
      eventName = undefined;
      return;
    }
    if (text.startsWith(":")) return; // comment / keep-alive
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "event") eventName = value;
    // id, retry and garbage lines are ignored.
  }

  function drain(out: SseEvent[]): void {
    let start = 0;
    for (let i = 0; i < buffer.length; i++) {
      const ch = buffer.charCodeAt(i);
      if (ch === 10 /* \n */ && skipLeadingLf && i === start) {
        skipLeadingLf = false;
        start = i + 1;
        continue;
      }
      skipLeadingLf = false;
      if (ch === 10 || ch === 13) {
        line(buffer.slice(start, i), out);
        if (ch === 13) {
          if (i + 1 < buffer.length) {
            if (buffer.charCodeAt(i + 1) === 10) i++;
          } else {
            skipLeadingLf = true;
          }
        }
        start = i + 1;
      }
    }
    buffer = buffer.slice(start);
  }

  return {
    push(chunk) {
      buffer += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
      const out: SseEvent[] = [];
      drain(out);
      return out;
    },
    end() {
      buffer += decoder.decode();
      const out: SseEvent[] = [];
      drain(out);
      if (buffer.length) line(buffer, out);
      buffer = "";
      line("", out);
      return out;
    },
  };
}
