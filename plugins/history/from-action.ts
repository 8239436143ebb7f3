/**
 * The history entry of one action, from the gate's typed result: who asked for what where, what
 * the policy said, who approved it, and how it ended. The only place execution rows are built.
 */
import type { ActionResult, HistoryEvent } from "../../src/kernel/index.ts";

export function executionEvent(result: ActionResult): HistoryEvent {
  const { action } = result;
  return {
    mode: action.kind === "local" ? "exec" : action.kind,
    server: action.server,
    command: action.command,
    path: action.path,
    origin: action.origin,
    actor: action.actor,
    runId: action.runId,
    conversation: action.conversation,
    exitCode: result.exitCode,
    durationMs: result.durationMs,
    decision: result.verdict?.decision,
    rule: result.verdict?.rule,
    approver: result.approver,
    auditSeq: result.auditSeq,
    ...(result.error ? { error: result.error.code } : {}),
  };
}
