/**
 * The service the shell plugin provides as "shell": what the shell integration recorded about the
 * last command, and the file the insert key binding reads a suggested command from.
 */

export interface LastCommand {
  /** The command line as typed; "" when hidden (it started with a space, like shell history). */
  command: string;
  hidden: boolean;
  exitCode: number;
  /** Exit status of each pipeline element, when the shell reports it. */
  pipeStatus: number[];
  /** Where the command started. */
  cwd: string;
  /** ISO time the command started (from the shell clock, else file time minus duration). */
  startedAt: string;
  durationMs: number;
  shell: string;
  /** PID of the interactive shell that ran it. */
  pid: number;
  /** The tmux pane the shell ran in, if any (socket path and pane id such as `%3`). */
  tmux?: { socket: string; pane: string };
  /** The opt-in capture wrapper (`oc <command>`) saved its output. */
  captured: boolean;
  /** Lines the shell's prompt takes (to trim a tmux capture). */
  promptLines: number;
  /** The state file this was read from. */
  file: string;
}

export interface ShellService {
  /** The last command of this shell session (OPSTERM_SHELL_SESSION), else of the most recent one. */
  lastCommand(): LastCommand | undefined;
  /**
   * Saves a suggested command for the insert key binding (default Alt-o). File 0600. Returns false,
   * saving nothing, when the policy rejects the command or no policy is loaded to ask.
   */
  saveSuggestion(command: string): Promise<boolean>;
  /** Where the suggestion is saved. */
  readonly suggestionPath: string;
  /** What to tell the user once a suggestion is saved, e.g. "press Alt-o at your prompt to insert it". */
  readonly insertHint: string;
}

declare module "../kernel/context.ts" {
  interface OpstermServices {
    shell: ShellService;
  }
}
