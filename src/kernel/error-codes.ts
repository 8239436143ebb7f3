/**
 * The one catalogue of error codes (as Rollup's logs.ts): every code opsterm reports, with its
 * exit code, what it means and what to do. Errors carry a code from here (the compiler checks it),
 * take their exit code and default hint from here, and `opsterm help errors` prints it.
 */
import { EXIT } from "./exit-codes.ts";

export interface ErrorInfo {
  /** The exit code a command ends with when this error stops it (several: it depends on what failed). */
  exit: number | readonly number[];
  /** What happened, in a few words. */
  summary: string;
  /** What to do, when the thrower has nothing more specific to say. */
  hint?: string;
}

const { USAGE, DATA, UNAVAILABLE, IO, TEMPORARY, DENIED, CONFIG, INTERRUPTED, FAILURE } = EXIT;
const SERVERS = '"opsterm servers list" shows the ids';
const AUDIT = "Check the audit directory (opsterm audit verify, opsterm doctor); nothing runs without its audit record";

export const ERROR_CODES = {
  // Usage
  E_USAGE: { exit: USAGE, summary: "wrong arguments or flags", hint: 'See "opsterm <command> --help"' },
  E_UNKNOWN_COMMAND: { exit: USAGE, summary: "no such command", hint: '"opsterm --help" lists the commands' },
  E_UNSAFE_ARG: { exit: USAGE, summary: "an id or value that could be read as an option or holds control characters" },
  E_VAULT_UNKNOWN: { exit: CONFIG, summary: "a ${vault:NAME} reference to a name the vault does not hold", hint: '"opsterm vault list" shows the names' },
  E_TARGET: { exit: USAGE, summary: "a target that names no server", hint: SERVERS },
  E_TARGET_AMBIGUOUS: { exit: USAGE, summary: "a target that names several servers where one is needed", hint: "Name one id" },
  E_VIA: { exit: USAGE, summary: "an invalid --via hop", hint: "Give inventory ids separated by commas: --via bastion,inner" },
  E_STDIN_TOO_LARGE: { exit: USAGE, summary: "more input on stdin than a fan-out holds in memory" },
  E_FANOUT_STDIN: { exit: USAGE, summary: "input piped into a fan-out without --stdin", hint: "Pass --stdin to send it to every host" },
  E_ACTION_INVALID: { exit: USAGE, summary: "an action with no command, no path or an invalid target" },
  E_SERVER_EXISTS: { exit: USAGE, summary: "a server id that already exists", hint: "Pass --force to replace it" },
  E_SERVER_UNKNOWN: { exit: USAGE, summary: "a server id that is not in that servers.yaml", hint: SERVERS },
  E_CONFIG_KEY: { exit: USAGE, summary: "an unknown config key", hint: '"opsterm config list" shows the keys' },
  E_CONFIG_VALUE: { exit: USAGE, summary: "a config value of the wrong type or range" },
  E_PLUGIN_UNKNOWN: { exit: USAGE, summary: "no user plugin by that name", hint: '"opsterm plugin list" shows them' },
  E_POLICY_NO_COMMAND: { exit: USAGE, summary: "policy check without a command" },
  E_AUDIT_LIMIT: { exit: USAGE, summary: "an invalid --limit" },
  E_APPROVAL_UNKNOWN: { exit: USAGE, summary: "no approval with that id", hint: '"opsterm approvals list" shows the waiting ones' },
  E_MCP_CLIENT: { exit: USAGE, summary: "an MCP client opsterm cannot install itself into", hint: "The clients: claude, codex, opencode" },
  E_MCP_INSTALL_SCOPE: { exit: USAGE, summary: "a --scope the MCP client has no config file for" },
  E_MCP_BINARY: { exit: USAGE, summary: "no absolute opsterm binary path to put in the client's config", hint: "Pass --bin /path/to/opsterm" },
  E_AUDIT_SEQ: { exit: USAGE, summary: "an audit record number that does not exist" },
  E_AUDIT_SINCE: { exit: USAGE, summary: "a --since that is neither a duration nor a date", hint: "Use e.g. --since 2h or --since 2025-01-31T12:00:00Z" },
  E_HISTORY_AGE: { exit: USAGE, summary: "an age that is not a duration", hint: "Use e.g. 90d, 12h, 2w" },
  E_HISTORY_ID: { exit: USAGE, summary: "a history entry id that is not a number or event id" },
  E_AGENT_NO_TASK: { exit: USAGE, summary: "opsterm agent without a task" },
  E_AGENT_NO_CONVERSATION: { exit: USAGE, summary: "chat --continue with no earlier agent conversation" },
  E_TOOL_ARGUMENTS: { exit: USAGE, summary: "a tool call whose arguments do not fit the tool's schema (the model is told; nothing ran)" },
  E_AGENT_SERVER: { exit: USAGE, summary: "a tool call naming a server outside the task's --on servers (the model is told; nothing ran)" },
  E_CHAT_NO_QUESTION: { exit: USAGE, summary: "nothing to ask" },
  E_CHAT_NO_CONVERSATION: { exit: USAGE, summary: "--continue with no earlier conversation" },
  E_CHAT_UNKNOWN_SERVER: { exit: USAGE, summary: "--on names no server", hint: SERVERS },
  E_SHELL: { exit: USAGE, summary: "an unknown shell", hint: "Use bash, zsh or fish" },
  E_SHELL_FN: { exit: USAGE, summary: "an invalid shell function name" },
  E_SHELL_KEY: { exit: USAGE, summary: "an invalid key binding" },
  E_SHELL_LINES: { exit: USAGE, summary: "an invalid --lines" },
  E_SHELL_UNKNOWN: { exit: USAGE, summary: "an unknown shell" },
  E_PUT_STDIN_TTY: { exit: USAGE, summary: "put with a terminal on stdin", hint: "Pipe or redirect the new content" },
  E_SCP_PATH: { exit: USAGE, summary: "an empty remote path or one with control characters" },
  E_SCP_MODE: { exit: USAGE, summary: "a --mode that is not an octal file mode", hint: "e.g. --mode 0644" },
  E_SCP_VIA: { exit: USAGE, summary: "an invalid --via hop" },
  E_SCP_LOCAL: { exit: USAGE, summary: "a local path that cannot be read or is not a file or directory" },
  E_SCP_LOCAL_ONLY: { exit: USAGE, summary: "scp with two local paths", hint: "Name the server as server:path on one side" },
  E_SCP_REMOTE_BOTH: { exit: USAGE, summary: "scp with two remote paths" },
  E_SCP_IS_DIR: { exit: USAGE, summary: "a directory where a file was expected", hint: "Pass -r to copy a directory" },
  E_PATCH_INVALID: { exit: USAGE, summary: "a unified diff that cannot be parsed, has no hunks or changes several files" },
  E_PATCH_MISMATCH: { exit: FAILURE, summary: "a patch whose context does not match the current file; nothing was written" },
  E_UNDO_NOT_FOUND: { exit: USAGE, summary: "undo of a run id or conversation that no audit record has", hint: 'Run ids are in "opsterm audit log --json"; a number is a record seq' },
  E_WRITE_NO_CONTENT: { exit: USAGE, summary: "a write action without content or a local file" },
  E_CONFIG_GLOBAL_ONLY: { exit: USAGE, summary: "a setting only the global config may hold (commands, key trust, credentials)", hint: "Set it without --workspace" },
  E_WORKSPACE_NONE: { exit: USAGE, summary: "no .opsterm/ folder here or above" },
  E_WORKSPACE_RESERVED: { exit: USAGE, summary: "a folder that is never a workspace ($HOME/.opsterm, the global config dir)" },
  E_WORKSPACE_UNKNOWN: { exit: USAGE, summary: "a folder that is not a trusted workspace", hint: '"opsterm workspace list" shows the trusted ones' },

  // Bad data
  E_YAML_SYNTAX: { exit: [CONFIG, DATA], summary: "a YAML file that does not parse (file:line:col): 78 for settings files, 65 for data files" },
  E_TRUST_STORE: { exit: DATA, summary: "a damaged plugins.json" },
  E_APPROVALS_STORE: { exit: DATA, summary: "a damaged approvals.json (the MCP approvals queue)", hint: "Move the file away; waiting MCP calls are then asked again" },
  E_APPROVAL_EXPIRED: { exit: DATA, summary: "an approval id past its 10 minutes: nothing ran", hint: "The client makes the call again; approve the new id" },
  E_APPROVAL_DECIDED: { exit: DATA, summary: "an approval id that was already approved, denied or used" },
  E_MCP_INSTALL_PARSE: { exit: DATA, summary: "an MCP client's config file that opsterm cannot read or place its entry in (left unchanged)", hint: '"opsterm mcp install <client> --print" shows the entry to add by hand' },
  E_SSH_CONFIG: { exit: DATA, summary: "an ssh config file that cannot be read" },
  E_HISTORY_NOT_FOUND: { exit: DATA, summary: "no history entry with that id" },
  E_BATCH_LINE: { exit: DATA, summary: "a policy check --batch line that cannot be classified" },
  E_FILE_TOO_BIG: { exit: [CONFIG, DATA], summary: "a state file over its size cap: it is not read" },
  E_FILE_TYPE: { exit: [CONFIG, DATA], summary: "a device, FIFO or socket (or a link to one) where a file should be: it is not read" },
  E_YAML_ALIASES: { exit: [CONFIG, DATA], summary: "a YAML file with more aliases than any real file needs (a \"billion laughs\")" },
  E_PLUGIN_SYNTAX: { exit: DATA, summary: "a plugin file that is not a valid ES module" },
  E_UNDO_EXEC: { exit: DATA, summary: "undo of an exec command (or a session): opsterm cannot undo what a command changed, only file writes it made" },
  E_UNDO_NOT_WRITE: { exit: DATA, summary: "undo of a record that changed nothing (a read, listing or refused action)" },
  E_UNDO_NOTHING: { exit: DATA, summary: "undo of a write that changed no file, or a run or log with no file write" },
  E_UNDO_NO_CONTENT: { exit: DATA, summary: "undo of a write whose before-content was not kept (a secret, or over the 8 MiB snapshot limit)", hint: '"opsterm audit show <seq>" shows what was recorded' },
  E_WORKSPACE_STORE: { exit: DATA, summary: "a damaged workspaces.json", hint: 'Move it away and trust your workspaces again with "opsterm workspace trust <dir>"' },

  // Configuration
  E_SCHEMA: { exit: CONFIG, summary: "a config file with an unknown key or a wrong type (file:line:col)", hint: '"opsterm config list" shows the valid keys' },
  E_SERVICE_MISSING: { exit: CONFIG, summary: "a plugin needs a service no loaded plugin provides", hint: '"opsterm doctor" shows which plugins failed' },
  E_PROXY_UNKNOWN: { exit: CONFIG, summary: "a proxy: that names no server" },
  E_PROXY_CYCLE: { exit: CONFIG, summary: "a jump chain that loops" },
  E_PLUGIN_MISSING: { exit: CONFIG, summary: "a trusted plugin file that is gone", hint: 'Restore it, or "opsterm plugin remove <name>"' },
  E_SSH_KEY: { exit: CONFIG, summary: "a key file that cannot be read" },
  E_SSH_KEY_ENCRYPTED: { exit: CONFIG, summary: "a key with a passphrase and no ssh-agent", hint: "ssh-add the key and set SSH_AUTH_SOCK" },
  E_SSH_NO_KEY: { exit: CONFIG, summary: "no SSH key to log in with", hint: 'Set "key:" in servers.yaml, start ssh-agent, or create ~/.ssh/id_ed25519' },
  E_CHAT_NO_PROVIDER: { exit: CONFIG, summary: "no AI provider is configured", hint: '"opsterm provider list" shows the presets' },
  E_CHAT_PROVIDER_UNKNOWN: { exit: CONFIG, summary: "an unknown provider name" },
  E_CHAT_NO_BASEURL: { exit: CONFIG, summary: "a provider without a base URL" },
  E_CHAT_NO_KEY: { exit: CONFIG, summary: "a provider that needs an API key and has none" },
  E_CHAT_KEY_CMD: { exit: CONFIG, summary: "the apiKeyCmd failed" },
  E_CHAT_AUTH: { exit: CONFIG, summary: "the provider refused the API key (401/403)" },
  E_SHELL_NO_CHAT: { exit: CONFIG, summary: "explain-last without the chat plugin" },

  // Unavailable
  E_NO_EXECUTOR: { exit: UNAVAILABLE, summary: "no plugin serves that kind of action", hint: '"opsterm doctor" shows which plugins failed' },
  E_PLUGIN_FAILED: { exit: UNAVAILABLE, summary: "a command of a plugin that failed to start" },
  E_SSH_CONNECT: { exit: UNAVAILABLE, summary: "the host cannot be reached", hint: "Check that it is up; opsterm servers test <id>" },
  E_SSH_TIMEOUT: { exit: UNAVAILABLE, summary: "connecting timed out", hint: "Raise --connect-timeout or check the host" },
  E_SSH_AUTH: { exit: UNAVAILABLE, summary: "every key was rejected" },
  E_SSH_JUMP: { exit: UNAVAILABLE, summary: "a jump host could not reach the next hop" },
  E_SSH_CLOSED: { exit: UNAVAILABLE, summary: "the server closed the connection during the handshake" },
  E_SSH_SPAWN: { exit: UNAVAILABLE, summary: "the system ssh could not be started", hint: "Install openssh-client" },
  E_CHAT_CONNECT: { exit: UNAVAILABLE, summary: "the AI provider cannot be reached" },
  E_CHAT_HTTP: { exit: UNAVAILABLE, summary: "the AI provider answered with an HTTP error" },
  E_CHAT_BAD_RESPONSE: { exit: UNAVAILABLE, summary: "the AI provider sent something that is not a chat completion" },
  E_CHAT_STREAM_ERROR: { exit: UNAVAILABLE, summary: "the AI provider reported an error mid-stream" },
  E_CHAT_INCOMPLETE: { exit: UNAVAILABLE, summary: "the answer stream ended before it was complete" },
  E_CHAT_QUOTA: { exit: UNAVAILABLE, summary: "the provider account is out of quota" },
  E_CHAT_NO_TOOLS: { exit: UNAVAILABLE, summary: "the model cannot call tools (the agent needs tool calling)", hint: "Use a model with tool support; nothing was run" },
  E_CHAT_MODELS: { exit: UNAVAILABLE, summary: "the provider's model list cannot be read" },
  E_CHAT_NO_INVENTORY: { exit: UNAVAILABLE, summary: "--on without the ssh plugin" },

  // I/O (fail closed)
  E_AUDIT_WRITE: { exit: IO, summary: "the audit record could not be written, so nothing ran", hint: AUDIT },
  E_AUDIT_MISSING: { exit: IO, summary: "no audit plugin is loaded, so nothing ran", hint: AUDIT },
  E_AUDIT_RESULT: { exit: IO, summary: "the action ran but its audit result was not written", hint: AUDIT },
  E_AUDIT_REDACT: { exit: IO, summary: "the audit record could not be redacted, so nothing ran" },
  E_AUDIT_INTEGRITY: { exit: IO, summary: "the audit log is damaged or was edited", hint: '"opsterm audit verify" names the first bad record' },
  E_SNAPSHOT: { exit: IO, summary: "a snapshot could not be committed" },
  E_SNAPSHOT_REF: { exit: IO, summary: "a snapshot commit cannot be read" },
  E_SNAPSHOT_MISSING: { exit: IO, summary: "nothing takes snapshots of file writes, so nothing was written" },
  E_SNAPSHOT_BEFORE: { exit: IO, summary: "the before-write snapshot failed, so nothing was written" },
  E_SNAPSHOT_AFTER: { exit: IO, summary: "the file was written but its after-write snapshot failed" },
  E_KNOWN_HOSTS_UNREADABLE: { exit: IO, summary: "known_hosts cannot be read, so no host can be verified" },
  E_HISTORY_JOURNAL: { exit: IO, summary: "the history journal cannot be written" },
  E_HISTORY_SAVE: { exit: IO, summary: "history.db cannot be saved" },

  // Temporary
  E_PRECONDITION: { exit: TEMPORARY, summary: "the remote file changed since it was read; nothing was replaced", hint: "Read it again and redo the change" },
  E_UNDO_CONFLICT: { exit: TEMPORARY, summary: "undo of a file that changed since opsterm wrote it; nothing was written", hint: "The three-way diff shows before, as written and now; merge by hand" },
  E_LOCK_TIMEOUT: { exit: TEMPORARY, summary: "another opsterm process holds the lock", hint: "Wait for it to finish" },
  E_AGENT_MAX_STEPS: { exit: TEMPORARY, summary: "the agent used its --max-steps model turns before the task was done", hint: "Raise --max-steps, or split the task" },
  E_AGENT_TIME_BUDGET: { exit: TEMPORARY, summary: "the agent's time budget ran out", hint: "Raise --time-budget (agent.timeBudget)" },
  E_AGENT_TOKEN_BUDGET: { exit: TEMPORARY, summary: "the agent's token budget ran out", hint: "Raise --token-budget (agent.tokenBudget)" },
  E_AGENT_DOOM_LOOP: { exit: TEMPORARY, summary: "the model made the same tool call three times in a row; the agent stopped", hint: "Rephrase the task, or try another model" },
  E_AGENT_TRUNCATED: { exit: TEMPORARY, summary: "the model's answer was cut off at its length limit; nothing from it ran", hint: "Raise the provider's maxTokens" },
  E_CHAT_RATE_LIMIT: { exit: TEMPORARY, summary: "the provider rate-limited the request (429)", hint: "Try again in a moment" },
  E_CHAT_TIMEOUT: { exit: TEMPORARY, summary: "the provider did not answer in time" },
  E_CHAT_IDLE: { exit: TEMPORARY, summary: "the answer stream stalled" },

  // Denied
  E_POLICY_REJECT: { exit: DENIED, summary: "the policy rejects this; --yes does not change that", hint: '"opsterm policy check --explain -- <command>" shows why' },
  E_NO_POLICY: { exit: DENIED, summary: "no policy decided (plugin missing or broken), so nothing ran" },
  E_APPROVAL_DENIED: { exit: DENIED, summary: "approval was refused, or there was no terminal to ask on", hint: "Run it from a terminal, or pass --yes to approve in advance" },
  E_APPROVAL_PENDING: { exit: DENIED, summary: "an MCP call still waits for approval: nothing ran yet", hint: '"opsterm approvals approve ID" in a terminal, then the client repeats the call' },
  E_NO_TTY: { exit: DENIED, summary: "a question with no terminal to ask on", hint: "Pass --yes to approve in advance" },
  E_HOSTKEY: { exit: DENIED, summary: "a host key could not be recorded" },
  E_HOSTKEY_CHANGED: { exit: DENIED, summary: "the host key changed: possible man in the middle; nothing was sent" },
  E_HOSTKEY_REVOKED: { exit: DENIED, summary: "the host key is marked @revoked" },
  E_HOSTKEY_UNKNOWN: { exit: DENIED, summary: "an unknown host key that was not accepted" },
  E_PLUGIN_UNTRUSTED: { exit: DENIED, summary: "a user plugin file changed since it was trusted", hint: 'Review it, then "opsterm plugin add <path>" again' },
  E_PLUGIN_RENAMED: { exit: DENIED, summary: "a user plugin now calls itself something else" },
  E_EXECUTOR_PRIVATE: { exit: DENIED, summary: "a user plugin tried to register an executor" },
  E_PLUGIN_IMPORTS: { exit: DENIED, summary: "a plugin that imports other files, which its pin would not cover", hint: "Bundle it into one file, or pass --allow-imports" },
  E_WORKSPACE_CHANGED: { exit: DENIED, summary: "a workspace file changed after it was trusted", hint: '"opsterm workspace trust" again after reviewing it' },
  E_WORKSPACE_REFUSED: { exit: DENIED, summary: "a workspace folder owned by someone else or writable by others" },
  E_SERVICE_PRIVATE: { exit: DENIED, summary: "a user plugin asked for a built-in-only service (a connection)" },
  E_VAULT_LOCKED: { exit: DENIED, summary: "the vault could not be unlocked (wrong passphrase, or no way to ask for one)" },

  // Failed (exit 1): the work itself failed
  E_EXECUTE: { exit: FAILURE, summary: "the executor failed unexpectedly" },
  E_SCP_FAILED: { exit: FAILURE, summary: "the transfer failed; the old file is intact" },
  E_SCP_SFTP: { exit: FAILURE, summary: "an SFTP request failed" },
  E_SCP_NOT_FOUND: { exit: FAILURE, summary: "the remote path does not exist" },
  E_SCP_NOT_DIR: { exit: FAILURE, summary: "a file where a directory should be" },
  E_SCP_NOT_FILE: { exit: FAILURE, summary: "the target is not a regular file" },
  E_SCP_DANGLING_LINK: { exit: FAILURE, summary: "the target is a symlink to nothing" },
  E_SCP_TOO_BIG: { exit: FAILURE, summary: "the file is larger than this read allows" },
  E_SCP_CHECKSUM: { exit: FAILURE, summary: "the written file's checksum did not match; it was not put in place" },
  E_SCP_NO_ATOMIC_RENAME: { exit: FAILURE, summary: "the server has no posix-rename: an atomic replace is impossible" },
  E_SCP_RENAME: { exit: FAILURE, summary: "the final rename failed; the old file is intact" },
  E_SCP_WRITE: { exit: FAILURE, summary: "writing the temporary file failed; the old file is intact" },
  E_SCP_OWNER: { exit: FAILURE, summary: "the replaced file's owner could not be kept" },
  E_SHELL_NOTHING_RECORDED: { exit: FAILURE, summary: "the shell integration recorded no command yet", hint: '"opsterm init bash|zsh|fish" installs it' },
  E_POLICY_NOT_LOADED: { exit: FAILURE, summary: "the policy engine was used before it was loaded (a bug)" },

  // Outcomes of a command on a server (the exit status is unknown: 255, like ssh)
  E_SSH_LOST: { exit: 255, summary: "the connection was lost before the command finished" },
  E_SSH_CHANNEL: { exit: 255, summary: "the server would not start the command" },
  E_SSH_CHANNEL_TIMEOUT: { exit: 255, summary: "the server did not open a session in time" },
  E_EXEC_TIMEOUT: { exit: 255, summary: "the command did not finish within --timeout" },
  E_EXIT_UNKNOWN: { exit: 255, summary: "the server sent no exit status" },
  E_REMOTE_SIGNAL: { exit: 255, summary: "the remote command was killed by a signal" },
  E_LOCAL_SIGNAL: { exit: 255, summary: "the local command was killed by a signal" },
  E_LOCAL_SPAWN: { exit: UNAVAILABLE, summary: "bash could not be started" },
  E_AGENT_ABORTED: { exit: DENIED, summary: "the agent was aborted at an approval prompt" },
  E_INTERRUPTED: { exit: INTERRUPTED, summary: "interrupted (Ctrl-C or SIGTERM)" },

  // The vault (docs/vault.md); E_VAULT_UNKNOWN and E_VAULT_LOCKED are above
  E_VAULT_REF: { exit: USAGE, summary: "a malformed ${vault:NAME} reference", hint: "Write ${vault:NAME}: letters, digits, _ . -" },
  E_VAULT_NAME: { exit: USAGE, summary: "a vault name with characters other than letters, digits, _ . -" },
  E_VAULT_EXISTS: { exit: USAGE, summary: "vault init where a vault exists", hint: '"opsterm vault rekey" changes the passphrase' },
  E_VAULT_VALUE_ARGV: { exit: USAGE, summary: "a vault value on the command line (ps and shell history would keep it)", hint: "Type it at the prompt, or pipe it in" },
  E_VAULT_LOCAL: { exit: USAGE, summary: "a ${vault:NAME} reference in a local command (its value would be in bash's argv)", hint: "Use it with opsterm exec on a server" },
  E_VAULT_TTY: { exit: USAGE, summary: "vault get onto a terminal without --reveal" },
  E_VAULT_LOG_N: { exit: USAGE, summary: "a --log-n outside 15..20" },
  E_VAULT_DAMAGED: { exit: DATA, summary: "vault.enc is damaged or not a regular file; nothing was decrypted", hint: "Restore vault.enc from a backup" },
  E_VAULT_KDF: { exit: DATA, summary: "vault.enc asks for a work factor outside logN 15..20; nothing was decrypted" },
  E_VAULT_NUL: { exit: DATA, summary: "a vault value with a NUL byte cannot go into a command line" },
  E_VAULT_EMPTY: { exit: DATA, summary: "an empty vault value" },
  E_VAULT_TOO_LARGE: { exit: DATA, summary: "a vault value over 1 MiB" },
  E_VAULT_BINARY: { exit: DATA, summary: "a vault value that is not UTF-8 text", hint: "Store binary data base64-encoded" },
  E_VAULT_ENV_FILE: { exit: DATA, summary: "a .env file that cannot be imported" },
  E_VAULT_REKEYED: { exit: TEMPORARY, summary: "another process re-keyed the vault meanwhile; nothing was changed", hint: "Run the command again" },
  E_VAULT_PASSPHRASE: { exit: DENIED, summary: "a wrong vault passphrase" },
  E_VAULT_MISMATCH: { exit: DENIED, summary: "the two passphrases typed differ" },
  E_VAULT_EMPTY_PASSPHRASE: { exit: DENIED, summary: "an empty vault passphrase" },
  E_VAULT_PASSWORD_FILE: { exit: DENIED, summary: "a password file that is not a regular file of yours, mode 0600" },
  E_VAULT_PASSWORD_COMMAND: { exit: DENIED, summary: "vault.passwordCommand failed or printed nothing" },
  E_VAULT_NONE: { exit: CONFIG, summary: "there is no vault yet", hint: "Create it with: opsterm vault init" },
  E_VAULT_COMMAND: { exit: CONFIG, summary: "an empty vault.passwordCommand" },
  E_VAULT_MISSING: { exit: CONFIG, summary: "a ${vault:NAME} reference with no vault plugin loaded", hint: '"opsterm doctor" shows which plugins failed to load' },
  E_CHAT_VAULT_SCOPE: { exit: CONFIG, summary: "a vault API key whose destination (or the reference itself) a workspace config sets" },
  E_CHAT_VAULT_KEY: { exit: CONFIG, summary: "an API key reference to a name the vault does not hold" },

  // Moving from the original OpsTerm, and the commands its users type
  E_PROVIDER_NAME: { exit: USAGE, summary: "an invalid provider name or preset" },
  E_PROVIDER_URL: { exit: USAGE, summary: "a provider URL that is missing or not an http(s) URL", hint: "e.g. --api-url https://api.openai.com/v1" },
  E_PROVIDER_UNKNOWN: { exit: USAGE, summary: "a provider that is not in the global config.yaml", hint: '"opsterm provider list" shows the providers' },
  E_RETIRED_COMMAND: { exit: USAGE, summary: "a command of the original OpsTerm that opsterm does not have" },
  E_MIGRATE_SOURCE: { exit: USAGE, summary: "no original OpsTerm folder at the place given", hint: "Point --from at the folder holding config.yaml, servers.yaml, workflows.yaml or history.db" },
  E_MIGRATE_READ: { exit: DATA, summary: "a file of the original OpsTerm that cannot be read", hint: "Fix or move the file, then run opsterm migrate again; nothing was changed" },
  E_BUNDLE_FORMAT: { exit: DATA, summary: "a file that is not an opsterm export bundle", hint: 'Make one with "opsterm export FILE"' },
  E_BUNDLE_EXISTS: { exit: USAGE, summary: "the export file already exists", hint: "Pass --force to replace it, or pick another name" },
  E_BUNDLE_SECRETS: { exit: CONFIG, summary: "--include-secrets without a vault: secrets travel only encrypted", hint: '"opsterm vault init", then move the keys into it ("opsterm migrate" and "opsterm provider add" do that)' },
  E_BUNDLE_CONFLICT: { exit: USAGE, summary: "an imported file differs from the one here", hint: "Pass --force to replace it (the old file is kept as .bak)" },

  // Plugins and the kernel
  E_PLUGIN: { exit: FAILURE, summary: "a plugin threw unexpectedly", hint: "Run with --debug for the stack" },
  E_PLUGIN_INVALID: { exit: FAILURE, summary: "a file that is not a valid opsterm plugin" },
  E_PLUGIN_LOAD: { exit: FAILURE, summary: "a plugin module failed to load" },
  E_PLUGIN_DUPLICATE: { exit: FAILURE, summary: "two plugins with one name" },
  E_COMMAND_CONFLICT: { exit: FAILURE, summary: "two plugins define one command" },
  E_CONFIG_CONFLICT: { exit: FAILURE, summary: "two plugins declare one config key" },
  E_SERVICE_CONFLICT: { exit: FAILURE, summary: "two plugins provide one service" },
  E_EXECUTOR_CONFLICT: { exit: FAILURE, summary: "two plugins serve one action kind" },
  E_HOOK_INVALID: { exit: FAILURE, summary: "a hook entry that is not a function" },
  E_HOOK_UNKNOWN: { exit: FAILURE, summary: "a plugin registers a hook that does not exist" },
  E_INTERNAL: { exit: FAILURE, summary: "a bug in opsterm", hint: "Run with --debug and report the stack" },
} as const satisfies Record<string, ErrorInfo>;

/** Node file-system errors are reported as E_IO_<errno> (E_IO_EACCES, E_IO_ENOSPC …), exit 74. */
export type ErrorCode = keyof typeof ERROR_CODES | `E_IO_${string}`;

export function errorInfo(code: string): ErrorInfo | undefined {
  if (code in ERROR_CODES) return ERROR_CODES[code as keyof typeof ERROR_CODES];
  if (code.startsWith("E_IO_")) return { exit: IO, summary: `a file-system error (${code.slice(5)})` };
  return undefined;
}
