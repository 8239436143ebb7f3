/**
 * Commands a model suggests in a markdown answer: fenced shell blocks (and unlabelled ones) and
 * `$ ` lines, in order, without duplicates. One reader for every screen that offers or saves a
 * suggestion (ask, explain-last, the agent's transcript).
 */
const SHELL_LANGS = new Set(["", "bash", "sh", "shell", "zsh", "console", "shell-session", "shellsession"]);

export function extractCommands(markdown: string): string[] {
  const found: string[] = [];
  const lines = markdown.replace(/\r\n/g, "\n").split("\n");
  let fence: { marker: string; lang: string; body: string[] } | undefined;
  for (const line of lines) {
    if (fence) {
      if (line.trim().startsWith(fence.marker) && line.trim().replace(/[`~]/g, "") === "") {
        if (SHELL_LANGS.has(fence.lang)) found.push(...fromBlock(fence.body, fence.lang));
        fence = undefined;
      } else fence.body.push(line);
      continue;
    }
    const open = /^\s*(`{3,}|~{3,})\s*([A-Za-z-]*)/.exec(line);
    if (open) {
      fence = { marker: open[1], lang: open[2].toLowerCase(), body: [] };
      continue;
    }
    const prompt = /^\s*\$ (.+)$/.exec(line);
    if (prompt) found.push(prompt[1].trim());
  }
  // An unterminated fence (the answer was cut) yields nothing: half a command is worse than none.
  return [...new Set(found.filter((c) => c.length > 0))];
}

function fromBlock(body: string[], lang: string): string[] {
  const prompted = body.filter((l) => /^\s*\$ /.test(l));
  // A console transcript: only the `$ ` lines are commands, the rest is output.
  if (lang === "console" || lang.startsWith("shell-") || prompted.length > 0) {
    return prompted.map((l) => l.replace(/^\s*\$ /, "").trim());
  }
  // Leading comment lines explain the block; bash would skip them anyway.
  let start = 0;
  while (start < body.length && (body[start].trim() === "" || body[start].trim().startsWith("#"))) start++;
  const text = body.slice(start).join("\n").trim();
  return text ? [text] : [];
}
