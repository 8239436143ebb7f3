/**
 * `workflow cron`: the crontab line that runs a workflow unattended, and installing it into the
 * user's crontab idempotently (`crontab -l`, then `crontab -` with the line added or replaced).
 */
import { spawnSync } from "node:child_process";
import { UsageError, UnavailableError } from "../../src/kernel/index.ts";
import { shellQuote } from "../../src/lib/shell-quote.ts";

const MACROS = new Set(["@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]);
const FIELD = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$/;
const NAMED = /^[A-Za-z]{3}(-[A-Za-z]{3})?(,[A-Za-z]{3}(-[A-Za-z]{3})?)*$/;

/** Checks a schedule: five fields (numbers, ranges, steps, lists, month/day names) or a macro. */
export function checkSchedule(expr: string): string {
  const text = expr.trim().replace(/\s+/g, " ");
  if (MACROS.has(text)) return text;
  const fields = text.split(" ");
  const ranges: [number, number][] = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]];
  const ok =
    fields.length === 5 &&
    fields.every((f, i) => {
      if ((i === 3 || i === 4) && NAMED.test(f)) return true;
      if (!FIELD.test(f)) return false;
      return (f.match(/\d+/g) ?? []).every((n, j, all) => {
        // step values (after "/") are not range-checked against the field
        const isStep = f.split(/[,]/).some((part) => part.includes("/") && part.endsWith("/" + n)) && j === all.length - 1;
        return isStep || (Number(n) >= ranges[i][0] && Number(n) <= ranges[i][1]);
      });
    });
  if (!ok) throw new UsageError(`"${expr}" is not a cron schedule`, { code: "E_CRON_EXPR", hint: 'Five fields: minute hour day month weekday, e.g. "*/5 * * * *" or "30 2 * * 1-5"; or @hourly, @daily …' });
  return text;
}

/** Environment a cron job needs to find opsterm's files and tools (no secrets: values, not credentials). */
export const CRON_ENV = ["OPSTERM_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "OPSTERM_KNOWN_HOSTS", "PATH", "LANG"];

export function marker(name: string): string {
  return `# opsterm workflow ${name}`;
}

export interface CronLineInput {
  name: string;
  schedule: string;
  /** The program and its leading arguments (the single binary; under a dev runtime, node and the script). */
  command: string[];
  cwd: string;
  env: Record<string, string | undefined>;
}

export function cronLine(input: CronLineInput): string {
  const env = CRON_ENV.filter((k) => input.env[k]).map((k) => `${k}=${shellQuote(input.env[k]!)}`);
  const cmd = [...input.command.map(shellQuote), "run", shellQuote(input.name), "--cron"].join(" ");
  // `%` ends the command in a crontab line unless escaped.
  const line = `cd ${shellQuote(input.cwd)} && ${env.length ? `env ${env.join(" ")} ` : ""}${cmd}`.replace(/%/g, "\\%");
  return `${input.schedule} ${line} ${marker(input.name)}`;
}

function crontab(args: string[], input?: string, env?: Record<string, string | undefined>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync("crontab", args, { input, encoding: "utf8", env: env as NodeJS.ProcessEnv, timeout: 15_000 });
  if (r.error) throw new UnavailableError("E_CRONTAB", `crontab could not be run: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Adds or replaces the workflow's line. Returns whether the crontab changed. */
export function installLine(name: string, line: string, env?: Record<string, string | undefined>): boolean {
  const current = crontab(["-l"], undefined, env);
  // "no crontab for <user>" is an empty crontab.
  if (current.status !== 0 && !/no crontab/i.test(current.stderr)) throw new UnavailableError("E_CRONTAB", `crontab -l failed: ${current.stderr.trim() || `exit ${current.status}`}`);
  const lines = current.status === 0 ? current.stdout.split("\n") : [];
  if (lines.at(-1) === "") lines.pop();
  const tag = marker(name);
  if (lines.includes(line)) return false;
  const kept = lines.filter((l) => !l.endsWith(tag));
  kept.push(line);
  const written = crontab(["-"], kept.join("\n") + "\n", env);
  if (written.status !== 0) throw new UnavailableError("E_CRONTAB", `crontab - failed: ${written.stderr.trim() || `exit ${written.status}`}`);
  return true;
}
