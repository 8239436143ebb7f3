/**
 * `opsterm policy check [--server S] [--tier T] [--json] [--exit-code] -- <command>` and
 * `opsterm policy check --batch` (JSON string per line in, JSON object per line out).
 */
import { defineCommand, type CommandContext, type CommandSpec, type Verdict } from "../../src/kernel/index.ts";
import { UsageError } from "../../src/kernel/errors.ts";
import type { ClassifyOptions } from "./types.ts";
import type { LoadedPolicyService } from "./service.ts";

/** Exit codes with --exit-code (documented in docs/policy.md). */
export const DECISION_EXIT: Record<Verdict["decision"], number> = { "auto-allow": 0, "approval-required": 10, reject: 77 };

const check = defineCommand({
  name: "policy check",
  groupDescription: "Classify commands: auto-allow, approval-required or reject, and why",
  description: "Classify a shell command: auto-allow, approval-required or reject, with the rule and why",
  usage: "[command...]",
  options: [
    { flags: "--server <id>", description: "Judge it for this inventory server (its tier and server rules apply)" },
    { flags: "--tier <tier>", description: "Judge it for this tier (e.g. prod); overrides the server's" },
    { flags: "--batch", description: "Read one JSON string per line from stdin, write one JSON object per line" },
    { flags: "--exit-code", description: "Exit 0 auto-allow, 10 approval-required, 77 reject (default: 0 for any answer)" },
    { flags: "--explain", description: "Also show the option-table entries and rules that decided" },
  ],
  examples: [
    "opsterm policy check -- ls -la /var/log",
    "opsterm policy check --server db-1 --json -- 'systemctl restart postgresql'",
    "opsterm policy check --explain -- 'journalctl -n --vacuum-time=1s'",
    `printf '%s\\n' '"uptime"' '"rm -rf /"' | opsterm policy check --batch`,
  ],
  async action(args, ctx) {
    const policy = ctx.use("policy") as LoadedPolicyService;
    await policy.load();
    const options = await targetOptions(args.server, args.tier, ctx);
    if (args.batch) return runBatch(policy, options, ctx);
    const words = args["--"].length ? args["--"] : ((args.command as string[] | undefined) ?? []);
    if (words.length === 0) {
      throw new UsageError("policy check: give the command after --", { code: "E_POLICY_NO_COMMAND", hint: `Example: opsterm policy check -- 'ls -la /var/log', or use --batch` });
    }
    const command = words.join(" ");
    const { verdict: v, trace } = args.explain ? policy.explain(command, options) : { verdict: policy.classify(command, options), trace: [] as string[] };
    if (ctx.json) {
      ctx.io.out(JSON.stringify({ command, decision: v.decision, rule: v.rule, reason: v.reason, segment: v.segment ?? null, server: options.server ?? null, tier: options.tier ?? null, ...(args.explain ? { explain: trace } : {}) }));
    } else {
      const s = ctx.io.style;
      const paint = v.decision === "auto-allow" ? s.green : v.decision === "reject" ? s.red : s.yellow;
      ctx.io.out(`${s.bold(paint(v.decision))}  ${s.dim("rule")} ${v.rule}`);
      ctx.io.out(`  ${s.dim("reason ")} ${v.reason}`);
      if (v.segment) ctx.io.out(`  ${s.dim("segment")} ${JSON.stringify(v.segment)}`);
      if (options.server || options.tier) ctx.io.out(`  ${s.dim("target ")} ${[options.server && `server ${options.server}`, options.tier && `tier ${options.tier}`].filter(Boolean).join(", ")}`);
      if (args.explain) {
        ctx.io.out(`  ${s.dim("explain")}`);
        for (const line of trace.length ? trace : [`rule ${v.rule}: ${v.reason}`]) ctx.io.out(`    ${line}`);
      }
    }
    return args.exitCode ? DECISION_EXIT[v.decision] : 0;
  },
});

async function targetOptions(server: unknown, tier: unknown, ctx: CommandContext): Promise<ClassifyOptions> {
  const options: ClassifyOptions = {};
  if (typeof server === "string" && server) {
    options.server = server;
    // The inventory is optional: without the ssh plugin, --server only scopes server rules.
    const inventory = ctx.tryUse("inventory") as { get?: (id: string) => unknown; list?: () => Promise<{ id: string }[]> } | undefined;
    const entry = (await inventory?.get?.(server)) as { tier?: string } | undefined;
    if (inventory?.get && !entry) {
      // A mistyped id would silently skip the server's tier and rules: say so instead.
      const ids = ((await inventory.list?.()) ?? []).map((s) => s.id);
      if (ids.length === 0) {
        // Nothing to mistype against: judge with the server's own rules, without a tier.
        ctx.io.warn(`server "${server}" is not in the inventory (no servers yet): no tier applies; use --tier T to judge for one`);
      } else {
        const { closest } = await import("../../src/lib/schema.ts");
        const guess = closest(server, ids);
        throw new UsageError(`Unknown server "${server}"${guess ? ` (did you mean "${guess}"?)` : ""}`, { code: "E_TARGET", hint: '"opsterm servers list" shows the ids; --tier T judges for a tier without a server' });
      }
    }
    if (entry?.tier) options.tier = entry.tier;
  }
  if (typeof tier === "string" && tier) options.tier = tier;
  return options;
}

/** A `--batch` line longer than this is answered with an error object, never echoed or judged. */
export const MAX_BATCH_LINE = 64 * 1024;

function runBatch(policy: LoadedPolicyService, options: ClassifyOptions, ctx: CommandContext): Promise<number> {
  const stdin = ctx.io.stdin;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  // The current line's bytes so far, as chunks: each input byte is looked at once (linear time
  // however the line is split across reads).
  let parts: Buffer[] = [];
  let partLength = 0;
  /** The current line passed MAX_BATCH_LINE: its bytes are dropped until the newline. */
  let oversized = false;
  let lineNo = 0;
  let bad = 0;

  // A line that is not a JSON string still gets an answer in the same shape, so a reader that
  // only looks at `decision` fails closed; `error` says what was wrong with the line.
  const badLine = (command: string, message: string): string => {
    bad++;
    return JSON.stringify({ command, decision: "reject", rule: "input.bad-line", reason: message, line: lineNo, error: { code: "E_BATCH_LINE", message } });
  };

  const tooLong = (bytes: number): string => {
    lineNo++;
    bad++;
    const message = `line ${lineNo} is longer than ${MAX_BATCH_LINE} bytes (${bytes}${bytes > MAX_BATCH_LINE ? "+" : ""}); it was not read`;
    return JSON.stringify({ command: null, decision: "reject", rule: "input.too-long", reason: message, line: lineNo, error: { code: "E_BATCH_LINE_TOO_LONG", message } });
  };

  const judge = (bytes: Buffer): string => {
    lineNo++;
    if (lineNo === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      const lossy = bytes.toString("utf8");
      return JSON.stringify({ command: lossy, decision: "reject", rule: "input.invalid-utf8", reason: `line ${lineNo} is not valid UTF-8` });
    }
    if (text.endsWith("\r")) text = text.slice(0, -1);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return badLine(text, `line ${lineNo} is not JSON: ${(error as Error).message}`);
    }
    if (typeof value !== "string") {
      return badLine(text, `line ${lineNo} is JSON ${value === null ? "null" : Array.isArray(value) ? "array" : typeof value}, not a string`);
    }
    const v = policy.classify(value, options);
    return JSON.stringify({ command: value, decision: v.decision, rule: v.rule, reason: v.reason });
  };

  const endLine = (out: string[]): void => {
    if (oversized) out.push(tooLong(partLength));
    else out.push(judge(parts.length === 1 ? parts[0] : Buffer.concat(parts, partLength)));
    parts = [];
    partLength = 0;
    oversized = false;
  };

  const take = (bytes: Buffer): void => {
    if (bytes.length === 0) return;
    partLength += bytes.length;
    if (oversized) return;
    if (partLength > MAX_BATCH_LINE) {
      oversized = true;
      parts = [];
      return;
    }
    parts.push(bytes);
  };

  const feed = (chunk: Buffer, final: boolean): void => {
    const out: string[] = [];
    let start = 0;
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, start)) {
      take(chunk.subarray(start, i));
      endLine(out);
      start = i + 1;
    }
    take(chunk.subarray(start));
    if (final && partLength > 0) endLine(out);
    if (out.length === 0) return;
    // Backpressure: a slow reader pauses stdin instead of buffering every answer in memory.
    if (!ctx.io.stdout.write(out.join("\n") + "\n")) {
      stdin.pause();
      ctx.io.stdout.once("drain", () => {
        if (!ctx.signal.aborted) stdin.resume();
      });
    }
  };

  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      stdin.off("data", onData);
      ctx.signal.removeEventListener("abort", onAbort);
      // The process exits right after: resolve only once everything written has been flushed.
      ctx.io.stdout.write("", () => resolve(code));
    };
    const onData = (chunk: Buffer) => {
      if (!done) feed(chunk, false);
    };
    // SIGINT/SIGTERM (or the reader going away): stop reading at once; the answers already
    // written stay, and the command ends with the interrupted exit code.
    const onAbort = () => {
      stdin.pause();
      finish(130);
    };
    if (ctx.signal.aborted) return onAbort();
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    if (stdin.isTTY) ctx.io.warn("policy check --batch reads JSON strings from stdin, one per line; end with Ctrl-D");
    stdin.on("data", onData);
    stdin.on("end", () => {
      if (done) return;
      feed(Buffer.alloc(0), true);
      finish(bad > 0 ? 65 : 0);
    });
    stdin.on("error", (error) => {
      if (!done) reject(error);
    });
  });
}

export const policyCommands: CommandSpec[] = [check];
