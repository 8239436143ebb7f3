/**
 * One line typed on the terminal without echo (a passphrase, a secret value). The terminal is in
 * raw mode while it is read, so Ctrl-C arrives as a byte and is turned into an interruption here.
 */
import { InterruptedError } from "../../src/kernel/index.ts";

export async function readHidden(stdin: NodeJS.ReadStream, stderr: NodeJS.WriteStream, question: string): Promise<string> {
  // Echo goes off before the question shows: an answer typed (or sent) the moment the question
  // appears must never be echoed.
  const wasRaw = stdin.isRaw;
  stdin.setRawMode?.(true);
  stderr.write(question);
  stdin.resume();
  const decoder = new TextDecoder();
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = "";
      const finish = (error?: Error) => {
        stdin.off("data", onData);
        stdin.off("end", onEnd);
        if (error) reject(error);
        else resolve(typed);
      };
      const onEnd = () => finish(new InterruptedError("Input closed"));
      const onData = (chunk: Buffer) => {
        for (const c of decoder.decode(chunk, { stream: true })) {
          if (c === "\r" || c === "\n") return finish();
          if (c === "\x03") return finish(new InterruptedError());
          if (c === "\x04") {
            if (typed === "") return finish(new InterruptedError("Input closed"));
            continue;
          }
          if (c === "\x7f" || c === "\b") typed = [...typed].slice(0, -1).join("");
          else if (c === "\x15") typed = "";
          else if (c >= " ") typed += c;
        }
      };
      stdin.on("data", onData);
      stdin.on("end", onEnd);
    });
  } finally {
    stdin.setRawMode?.(wasRaw);
    stdin.pause();
    stderr.write("\n");
  }
}
