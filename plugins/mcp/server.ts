/**
 * `opsterm mcp`: an MCP server on stdio (the official SDK's low-level Server and its stdio
 * transport only, from ./sdk.ts: the HTTP transports would bring web frameworks into the binary).
 * Loaded only by this command, so no other command pays for the SDK.
 *
 * The tools are exactly src/tools/remote-tools.ts, and every call goes through the gate with
 * actor `mcp:<client name>` and one conversation id for the session. Approval is opsterm's: an
 * approval-required call waits in the approvals queue for `opsterm approvals approve ID` in the
 * user's terminal (progress notifications meanwhile), never for anything the client says.
 * stdout carries protocol messages only; logs go to stderr.
 */
import { randomUUID } from "node:crypto";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { DeniedError, type CommandContext } from "../../src/kernel/index.ts";
import type { Prompter } from "../../src/lib/prompt.ts";
import { callTool, checkArguments, ToolArgumentError, toolDefinitions, type ToolEnvelope } from "../../src/tools/remote-tools.ts";
import { VERSION } from "../../src/version.ts";
import { ApprovalQueue, approveCommand, queueApprover, type ApprovalOutcome } from "./approvals.ts";

export interface ServeOptions {
  /** How long an approval-required call waits for a person before it returns the approval id. */
  approvalTimeoutMs: number;
}

const INSTRUCTIONS =
  "opsterm runs commands and file operations on the user's servers through its own policy, approval and audit. " +
  "Read-only inspection runs at once; anything that changes state waits for the user to approve it in their terminal " +
  "(opsterm approvals approve ID); if the wait ends first, the result carries the id: ask the user to approve it, then repeat the same call with the same arguments. " +
  "Destructive commands are refused by policy; do not try to get around a refusal.";

/** Never asks: the MCP server has no terminal of its own (stdin is the protocol). */
const NO_PROMPT: Prompter = {
  interactive: false,
  async confirm(_message, options = {}) {
    throw new DeniedError("E_NO_TTY", `${options.what ?? "This"} needs a person's answer, and the MCP server has no terminal to ask on`);
  },
  async select(_message, _choices, defaultValue) {
    return defaultValue;
  },
  async text(_message, options = {}) {
    return options.default ?? "";
  },
};

/** Runs the server until the client closes stdin (or SIGINT/SIGTERM). Returns the exit code. */
export async function serve(ctx: CommandContext, options: ServeOptions): Promise<number> {
  const { Server, StdioServerTransport, CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } = await import("./sdk.ts");
  // Host-key questions and the like must never reach a terminal the client may share with us.
  ctx.prompt = NO_PROMPT;
  const conversation = randomUUID();
  const queue = new ApprovalQueue(ctx.paths.dataDir);
  const inventory = ctx.use("inventory");
  const log = (text: string) => ctx.io.stderr.write(`opsterm mcp: ${text}\n`);
  // Calls in flight end when the session does (client gone, SIGTERM).
  const session = new AbortController();

  const server = new Server(
    { name: "opsterm", version: VERSION },
    {
      capabilities: { tools: { listChanged: false } },
      instructions: INSTRUCTIONS,
      // opsterm sends no elicitation requests (an elicitation answer never counts as approval):
      // no JSON Schema validator (ajv) is needed.
      jsonSchemaValidator: { getValidator: () => () => ({ valid: false, data: undefined, errorMessage: "opsterm validates nothing from clients with this" }) },
    },
  );
  const actor = () => `mcp:${clientName(server.getClientVersion()?.name)}`;

  const tools = toolDefinitions().map((d) => ({ name: d.name, description: d.description, inputSchema: d.inputSchema as { type: "object" }, annotations: d.annotations }));
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));

  // Calls in flight: when the client closes stdin they still finish (and answer) before exit.
  const inFlight = new Set<Promise<unknown>>();
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    const call = handleCall(request, extra);
    inFlight.add(call);
    void call.finally(() => inFlight.delete(call)).catch(() => {});
    return call;
  });

  type CallRequest = Parameters<Parameters<typeof server.setRequestHandler<typeof CallToolRequestSchema>>[1]>[0];
  type CallExtra = Parameters<Parameters<typeof server.setRequestHandler<typeof CallToolRequestSchema>>[1]>[1];
  async function handleCall(request: CallRequest, extra: CallExtra): Promise<CallToolResult> {
    const { name } = request.params;
    const args = request.params.arguments ?? {};
    try {
      checkArguments(name, args);
    } catch (error) {
      if (error instanceof ToolArgumentError) throw new McpError(ErrorCode.InvalidParams, error.message);
      throw error;
    }
    const signal = AbortSignal.any([extra.signal, session.signal]);
    const progressToken = request.params._meta?.progressToken;
    const secrets = (await ctx.hooks.call("secretValues")) ?? [];
    const redact = await redactorFor(secrets);
    const who = actor();
    let announced = false;
    const approver = queueApprover({
      queue,
      tool: name,
      args,
      actor: who,
      conversation,
      timeoutMs: options.approvalTimeoutMs,
      signal,
      redact,
      onWait(entry, waitedMs) {
        if (!announced) log(`${who} asks to run on ${entry.server}: ${entry.display.split("\n")[0]} (${entry.rule}); approve: ${approveCommand(entry.id)}`);
        announced = true;
        if (progressToken === undefined) return;
        const total = Math.round(options.approvalTimeoutMs / 1000);
        extra
          .sendNotification({
            method: "notifications/progress",
            params: { progressToken, progress: Math.round(waitedMs / 1000), total, message: `Waiting for approval ${entry.id}: the user runs "${approveCommand(entry.id)}"` },
          })
          .catch(() => {});
      },
    });
    let envelope: ToolEnvelope;
    try {
      envelope = await callTool(name, args, {
        actions: ctx.actions,
        listServers: () => inventory.list(),
        origin: "mcp",
        actor: who,
        conversation,
        approver,
        signal,
        redact,
      });
    } catch (error) {
      // An expected failure is an envelope already; this is e.g. a servers.yaml that cannot be read.
      const e = error as { code?: string; message?: string };
      envelope = { status: "error", tool: name as ToolEnvelope["tool"], error: { code: typeof e.code === "string" && e.code.startsWith("E_") ? e.code : "E_INTERNAL", message: redact(e.message ?? String(error)) } };
    }
    if (extra.signal.aborted) log(`${name} cancelled by the client`);
    return toResult(envelope, approver.outcome);
  }

  const transport = new StdioServerTransport(ctx.io.stdin, ctx.io.stdout);
  server.onerror = (error) => log(`protocol error: ${error.message}`);
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
    ctx.io.stdin.once("end", () => resolve());
    ctx.io.stdin.once("close", () => resolve());
    ctx.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await server.connect(transport);
  await closed;
  // SIGINT/SIGTERM stops everything; a closed stdin lets the calls in flight answer first.
  if (ctx.signal.aborted) session.abort(ctx.signal.reason);
  while (inFlight.size) await Promise.allSettled([...inFlight]);
  session.abort(new Error("the MCP session ended"));
  await server.close().catch(() => {});
  return 0;
}

/** What the client's name may contribute to the actor: a short, printable word. */
function clientName(name: string | undefined): string {
  const clean = (name ?? "").replace(/[^A-Za-z0-9._@/-]+/g, "-").slice(0, 64);
  return clean || "unknown";
}

async function redactorFor(secrets: string[]): Promise<(text: string) => string> {
  const { createRedactor } = await import("../../src/lib/redact.ts");
  const redactor = createRedactor({ knownSecrets: secrets });
  return (text) => redactor.redact(text).text;
}

/**
 * The envelope as a tool result: JSON text (and the same as structuredContent). A call that did
 * not run, or ran and could not finish, is `isError`, with a first line a person can act on.
 */
export function toResult(envelope: ToolEnvelope, approval?: ApprovalOutcome): CallToolResult {
  let summary: string | undefined;
  let body: ToolEnvelope & { approval?: unknown } = envelope;
  if (approval && approval.state !== "approved" && envelope.status === "denied") {
    const command = approveCommand(approval.id);
    if (approval.state === "timeout") {
      summary = `Waiting for approval ${approval.id}: ask the user to run "${command}" in a terminal, then repeat this call with the same arguments (the approval expires at ${approval.expires}).`;
      body = { ...envelope, error: { ...envelope.error!, code: "E_APPROVAL_PENDING" }, approval: { id: approval.id, command, expires: approval.expires } };
    } else if (approval.state === "denied") {
      summary = `The user denied approval ${approval.id}${approval.note ? `: ${approval.note}` : ""}. Do not retry this call.`;
      body = { ...envelope, approval: { id: approval.id, state: "denied", by: approval.by } };
    } else {
      summary = `Cancelled while waiting for approval ${approval.id}.`;
    }
  } else if (envelope.status === "rejected") {
    summary = `Refused by opsterm's policy${envelope.error?.rule ? ` (rule ${envelope.error.rule})` : ""}: ${envelope.error?.message ?? "rejected"}. Nothing was run.`;
  } else if (envelope.status === "error" || (envelope.status === "failed" && (envelope.exitCode === null || envelope.exitCode === undefined))) {
    summary = `${envelope.error?.code ?? "E_EXECUTE"}: ${envelope.error?.message ?? "the call failed"}`;
  }
  const json = JSON.stringify(body);
  return {
    content: summary ? [{ type: "text", text: summary }, { type: "text", text: json }] : [{ type: "text", text: json }],
    structuredContent: body as unknown as Record<string, unknown>,
    ...(summary ? { isError: true } : {}),
  };
}
