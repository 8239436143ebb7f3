/**
 * The kernel's public surface: the only module built-in plugins import from the kernel.
 */
export { definePlugin, API_VERSION, type OpstermPlugin, type Teardown } from "./plugin.ts";
export { defineCommand, type CommandSpec, type CommandArgs, type OptionSpec } from "./commands.ts";
export type { CommandContext, PluginContext, OpstermServices, Io, ProvideOptions } from "./context.ts";
export { HOOK_STRATEGY, type OpstermHooks, type HookName, type HookStrategy, type HookContext, type ActionExpansion } from "./hooks.ts";
export {
  exitCodeFor,
  throwIfRefused,
  type Actions,
  type ActionContext,
  type AnyExecutor,
  type Approver,
  type ApprovalAnswer,
  type ApprovalRequest,
  type AuditAction,
  type AuditInput,
  type AuditSink,
  type Execution,
  type ExecuteOutcome,
  type Executor,
  type ExecutorIo,
  type Preview,
  type RunOptions,
} from "./actions.ts";
export * from "./errors.ts";
export * from "./types.ts";
export type { LoadedConfig, Scope } from "./config.ts";
export { expandHome, type Paths } from "./paths.ts";
export { stateFiles, workspaceWrite, type Notice, type StateFile } from "./workspace.ts";
export type { SchemaNode } from "../lib/schema.ts";
