/**
 * `opsterm help topics` lists the guides; `opsterm help TOPIC` prints one (chat, ssh, policy …).
 * A topic that is also a command (`ssh`, `policy`) prints the guide, which names the command's
 * `--help` first. A near miss of a topic (`help polcy`) is a usage error with "did you mean";
 * anything else is left to the caller (command help, or a question).
 */
import type { Io } from "../kernel/context.ts";
import { UsageError } from "../kernel/errors.ts";
import { closest } from "../lib/schema.ts";
import { guides, guideTitles, renderGuide } from "./guides.ts";

export function helpTopic(io: Io, json: boolean, rest: string[], isCommand: (word: string) => boolean): number | undefined {
  const [word, ...more] = rest.filter((w) => !w.startsWith("-"));
  if (!word || more.length) return undefined;
  if (word === "topics" || word === "guides") {
    const titles = guideTitles();
    if (json) {
      io.out(JSON.stringify({ topics: titles.map(([name, title]) => ({ name, title })) }));
      return 0;
    }
    const width = Math.max(...titles.map(([n]) => n.length));
    io.out(io.style.bold("Guides") + io.style.dim("  (opsterm help TOPIC)"));
    for (const [name, title] of titles) io.out(`  ${name.padEnd(width)}  ${title}`);
    return 0;
  }
  const text = guides()[word];
  if (text === undefined) {
    // A misspelt topic is not a question for the AI; a word near no topic may still be one.
    const near = isCommand(word) ? undefined : closest(word, [...Object.keys(guides()), "topics", "errors"]);
    if (near) throw new UsageError(`No guide "${word}", did you mean "opsterm help ${near}"?`, { hint: '"opsterm help topics" lists the guides' });
    return undefined;
  }
  if (json) io.out(JSON.stringify({ topic: word, markdown: text }));
  else io.stdout.write(renderGuide(text).replace(/\n*$/, "\n") + io.style.dim(`\n(${isCommand(word) ? `the command's options: opsterm ${word} --help; ` : ""}all guides: opsterm help topics)\n`));
  return 0;
}
