/**
 * opsterm(1), in roff, from the command registry, the exit codes and the guides: build.ts writes
 * it to dist/opsterm.1 by running the built binary (`opsterm __manpage`), so it always matches.
 */
import type { CommandRegistry } from "../kernel/commands.ts";
import { ERROR_CODES, type ErrorInfo } from "../kernel/error-codes.ts";
import { GLOBAL_OPTIONS } from "./argv.ts";
import { guideTitles } from "./guides.ts";

/** Escapes text for roff: backslashes, and a leading dot or quote that would read as a request. */
const esc = (s: string) => s.replace(/\\/g, "\\e").replace(/-/g, "\\-").replace(/^([.'])/gm, "\\&$1");

const EXIT_CODES: [number, string][] = [
  [0, "ok"],
  [1, "the command failed (single-host exec returns the remote exit code instead)"],
  [2, "usage: unknown command, option or missing argument"],
  [65, "bad input data (JSON, a damaged vault.enc, a broken audit chain)"],
  [69, "unavailable: host or provider unreachable"],
  [74, "I/O error; the audit log could not be written, so nothing ran"],
  [75, "temporary: rate limited, lock held"],
  [77, "denied: by policy, at an approval prompt, an untrusted plugin or workspace, the vault"],
  [78, "configuration error (including a config file that is not valid YAML)"],
  [130, "interrupted"],
  [255, "a remote command's exit status is unknown (connection lost)"],
];

export function manPage(registry: CommandRegistry, version: string, date = new Date()): string {
  const out: string[] = [];
  const month = date.toISOString().slice(0, 7);
  out.push(`.TH OPSTERM 1 "${month}" "opsterm ${esc(version)}" "User Commands"`);
  out.push(".SH NAME", "opsterm \\- AI, SSH and safe remote execution for people who run servers");
  out.push(".SH SYNOPSIS", ".B opsterm", ".I command", "[\\fIoptions\\fR]", ".br", ".B opsterm", "[\\fIquestion...\\fR]");
  out.push(".SH DESCRIPTION", esc("One executable: an AI assistant in the terminal (any OpenAI-compatible API), a server inventory with SSH, scripted and parallel remote execution and file transfer, and a safety core that decides what may run. Every remote action passes a deterministic policy gate and is written to a hash-chained audit log before it runs."));
  out.push(".SH COMMANDS");
  for (const cmd of registry.all()) {
    if (cmd.hidden) continue;
    out.push(".TP", `.B opsterm ${esc(cmd.name)}${cmd.usage ? ` \\fI${esc(cmd.usage)}\\fR` : ""}`, esc(cmd.description));
    for (const o of cmd.options ?? []) out.push(".RS", ".TP", `.B ${esc(o.flags)}`, esc(o.description), ".RE");
  }
  out.push(".SH GLOBAL OPTIONS");
  for (const o of GLOBAL_OPTIONS) out.push(".TP", `.B ${esc(o.flags)}`, esc(o.description));
  out.push(".SH JSON OUTPUT", esc("With --json stdout is JSON lines: every line one JSON object, each one result. A command answering one request prints one line (a query's list inside it); commands that stream records (audit log, vault list, servers list, exec fan-out, policy check --batch, help errors) print one line per record. An error is one JSON object {\"error\": {code, message, hint, exitCode}} on stderr."));
  out.push(".SH EXIT STATUS");
  for (const [code, meaning] of EXIT_CODES) out.push(".TP", `.B ${code}`, esc(meaning));
  out.push(".SH ERROR CODES", esc("Every error names a stable code; opsterm help errors lists them all:"));
  for (const [code, info] of Object.entries(ERROR_CODES) as [string, ErrorInfo][]) out.push(".TP", `.B ${code}`, esc(`(${Array.isArray(info.exit) ? info.exit.join("|") : info.exit}) ${info.summary}`));
  out.push(".SH GUIDES", esc("Built into the binary; print one with opsterm help TOPIC:"));
  for (const [name, title] of guideTitles()) out.push(".TP", `.B ${esc(name)}`, esc(title));
  out.push(".SH FILES", ".TP", ".I ~/.config/opsterm/", esc("config.yaml, servers.yaml, policy.yaml, plugins.json, workspaces.json, vault.enc ($OPSTERM_HOME, or $XDG_CONFIG_HOME/opsterm)"), ".TP", ".I ~/.local/share/opsterm/", esc("history.db, audit/ ($OPSTERM_HOME, or $XDG_DATA_HOME/opsterm)"));
  out.push(".SH ENVIRONMENT", ".TP", ".B OPSTERM_HOME", "One folder for config and data.", ".TP", ".B OPSTERM_BASE_URL, OPSTERM_MODEL, OPSTERM_API_KEY", "The AI provider for this run.", ".TP", ".B NO_COLOR", "Plain output.");
  return out.join("\n") + "\n";
}
