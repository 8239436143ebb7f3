/**
 * The OpsTerm transfer syntax: `server:path` is remote, anything else is local. A path that
 * starts with `/`, `./`, `../` or `~` is always local, so `./a:b` names a local file.
 */
import { UsageError } from "../../src/kernel/index.ts";

export type Endpoint = { kind: "local"; path: string } | { kind: "remote"; server: string; path: string };

const REMOTE = /^([A-Za-z0-9_][A-Za-z0-9_.@-]*):(.*)$/s;

export function parseEndpoint(text: string): Endpoint {
  if (text === "") throw new UsageError("An empty path was given", { code: "E_SCP_PATH", hint: "Give a local path or server:path" });
  if (/[\0]/.test(text)) throw new UsageError("A path holds a NUL byte", { code: "E_SCP_PATH" });
  if (/^(\/|\.\/|\.\.\/|~)/.test(text) || text === "." || text === "..") return { kind: "local", path: text };
  const m = REMOTE.exec(text);
  if (!m) return { kind: "local", path: text };
  const [, server, path] = m;
  if (/[\x01-\x1f\x7f]/.test(path)) {
    throw new UsageError(`The remote path ${JSON.stringify(path)} holds control characters`, { code: "E_SCP_PATH", hint: "Rename the file, or quote it exactly" });
  }
  // `web1:` is the login directory, as with scp.
  return { kind: "remote", server, path: path === "" ? "." : path };
}

/** Checks a remote path given on its own (put/get), not in `server:path` form. */
export function checkRemotePath(path: string): string {
  if (path === "") throw new UsageError("The remote path is empty", { code: "E_SCP_PATH", hint: "Give an absolute path such as /etc/motd" });
  if (/[\0-\x1f\x7f]/.test(path)) throw new UsageError(`The remote path ${JSON.stringify(path)} holds control characters`, { code: "E_SCP_PATH" });
  return path;
}

/** Parses `--mode 0644` (octal, with or without the leading 0). */
export function parseMode(value: unknown): number | undefined {
  if (value === undefined || value === null || value === false) return undefined;
  const text = String(value);
  if (!/^0?[0-7]{3,4}$/.test(text)) {
    throw new UsageError(`--mode ${text} is not an octal file mode`, { code: "E_SCP_MODE", hint: "Use three or four octal digits, e.g. --mode 0644 or --mode 600" });
  }
  const mode = Number.parseInt(text, 8);
  if (mode > 0o7777) throw new UsageError(`--mode ${text} is out of range`, { code: "E_SCP_MODE" });
  return mode;
}
