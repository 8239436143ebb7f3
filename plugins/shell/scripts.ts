/**
 * The shell integration scripts printed by `opsterm init bash|zsh|fish`.
 *
 * Per prompt they cost a few builtins and one small file write: they never start opsterm or any
 * other process (a subshell only when the state file or its directory is missing). After each
 * command they overwrite `<dataDir>/shell/<pid>.last` with NUL-separated fields (a command line
 * cannot hold a NUL byte, so quotes, tabs and newlines need no encoding) and point
 * `<dataDir>/shell/latest` at it. Files are created 0600 under a 0700 directory with umask 077
 * set in a subshell, so the user's umask is never changed; `>|` ignores noclobber.
 */

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type ShellName = (typeof SHELLS)[number];

/** Magic first field and last field of a state file: a file without both is incomplete. */
export const STATE_MAGIC = "opsterm-last-1";
export const STATE_END = "end";
/**
 * Field order after the magic: status, pipestatus, start, end, durationMs, shell, pid,
 * tmuxSocket, tmuxPane, promptLines, flags, cwd, command.
 */
export const STATE_FIELDS = 13;

export const DEFAULT_INSERT_KEY = "\\eo";

export interface ScriptOptions {
  /** Directory of the state files (absolute). */
  dir: string;
  /** Key sequence for "insert the suggested command", e.g. `\eo`; empty = no binding. */
  key: string;
  /** Name of the opt-in capture wrapper function; empty = none. */
  captureFn: string;
}

/** Key sequences are spliced into scripts: allow only what key notation needs. */
export const KEY_PATTERN = /^[A-Za-z0-9\\^-]{1,24}$/;
/** Function names likewise. */
export const FN_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,31}$/;

function posixQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function fishQuote(value: string): string {
  return `'${value.replace(/[\\']/g, "\\$&")}'`;
}

const PRINTF_FORMAT = `${STATE_MAGIC}${"\\0%s".repeat(STATE_FIELDS)}\\0${STATE_END}`;

export function initScript(shell: ShellName, options: ScriptOptions): string {
  return { bash: bashScript, zsh: zshScript, fish: fishScript }[shell](options).replace(/^\n/, "");
}

function bashScript(o: ScriptOptions): string {
  const bind = o.key
    ? `
__opsterm_insert() {
  local s=
  [[ -r $__opsterm_dir/suggestion ]] || return 0
  IFS= read -r -d '' s < "$__opsterm_dir/suggestion"
  s=\${s%$'\\n'}
  READLINE_LINE=\${READLINE_LINE:0:READLINE_POINT}$s\${READLINE_LINE:READLINE_POINT}
  READLINE_POINT=$((READLINE_POINT + \${#s}))
}
bind -m emacs -x '"${o.key}": __opsterm_insert' 2>/dev/null
bind -m vi-insert -x '"${o.key}": __opsterm_insert' 2>/dev/null
`
    : "";
  const capture = o.captureFn
    ? `
if ! type -t ${o.captureFn} >/dev/null 2>&1; then
${o.captureFn}() {
  if (($# == 0)); then
    printf '%s\\n' "usage: ${o.captureFn} <command> [args...]: runs it with its output saved for opsterm last/explain-last" >&2
    return 2
  fi
  local out=$__opsterm_dir/$$.out
  __opsterm_prepare "$out" || return 1
  "$@" 2>&1 | command tee -- "$out"
  local s=\${PIPESTATUS[0]}
  __opsterm_flags+=" captured"
  return "$s"
}
fi
`
    : "";
  return `
# opsterm shell integration for bash: add  eval "$(opsterm init bash)"  to ~/.bashrc (last).
if [[ $- == *i* && -z \${__opsterm_loaded-} ]]; then
__opsterm_loaded=1
__opsterm_dir=${posixQuote(o.dir)}
__opsterm_file=$__opsterm_dir/$$.last
export OPSTERM_SHELL_SESSION=$$
__opsterm_armed=
__opsterm_ran=
__opsterm_histnum=
__opsterm_flags=

# Creates the directory (0700) and file (0600) when missing; umask only inside a subshell.
__opsterm_prepare() {
  [[ -d $__opsterm_dir ]] || (umask 077 && command mkdir -p -- "$__opsterm_dir") || return 1
  [[ -f $1 ]] || (umask 077 && : >| "$1") 2>/dev/null
}

# The last history entry into __opsterm_n (number) and __opsterm_h (text), with builtins only:
# through a 0600 scratch file that is emptied right after, rather than a forked $(...).
__opsterm_hist() {
  __opsterm_prepare "$__opsterm_file.h" || return 1
  HISTTIMEFORMAT= builtin history 1 >| "$__opsterm_file.h" 2>/dev/null || return 1
  local h=
  IFS= read -r -d '' h < "$__opsterm_file.h"
  : >| "$__opsterm_file.h"
  h=\${h%$'\\n'}
  h=\${h#"\${h%%[! ]*}"}
  __opsterm_n=\${h%%[!0-9]*}
  __opsterm_h=\${h:\${#__opsterm_n}+2}
}

# DEBUG trap: runs before every simple command, acts once per command line read at the prompt.
__opsterm_preexec() {
  [[ -n $__opsterm_armed && -z \${COMP_LINE-} ]] || return 0
  case $BASH_COMMAND in __opsterm_insert*) return 0 ;; esac
  __opsterm_armed=
  # An empty line: the first thing that runs is the prompt's own hook.
  [[ $BASH_COMMAND == __opsterm_precmd* ]] && return 0
  __opsterm_start=$EPOCHREALTIME
  __opsterm_cwd=$PWD
  __opsterm_flags=
  local h=
  if [[ -o history ]] && __opsterm_hist; then
    h=$__opsterm_h
    if [[ -n $__opsterm_histnum && $__opsterm_n == "$__opsterm_histnum" && $h != "$BASH_COMMAND"* ]]; then
      # No new history entry and not a repeat of the last one (ignoredups): HISTCONTROL or
      # HISTIGNORE kept this line out of history, so keep it out of the record too.
      h= __opsterm_flags=hidden
    fi
    __opsterm_histnum=$__opsterm_n
  else
    h=$BASH_COMMAND
  fi
  if [[ $h == [[:space:]]* ]]; then h= __opsterm_flags=hidden; fi
  __opsterm_cmd=$h
  __opsterm_ran=1
}

# First in PROMPT_COMMAND, so $? and PIPESTATUS are still the command's; returns $? unchanged.
__opsterm_precmd() {
  local s=$? p="\${PIPESTATUS[*]}"
  [[ -n $__opsterm_ran ]] || return "$s"
  __opsterm_ran=
  local end=$EPOCHREALTIME t=\${PS1//\\\\n/$'\\n'} sock= pane=
  t=\${t//[!$'\\n']/}
  if [[ -n \${TMUX-} && -n \${TMUX_PANE-} ]]; then sock=\${TMUX%%,*} pane=$TMUX_PANE; fi
  __opsterm_prepare "$__opsterm_file" || return "$s"
  builtin printf '${PRINTF_FORMAT}' "$s" "$p" "$__opsterm_start" "$end" "" bash "$$" "$sock" "$pane" "$((\${#t} + 1))" "$__opsterm_flags" "$__opsterm_cwd" "$__opsterm_cmd" >| "$__opsterm_file" 2>/dev/null
  __opsterm_prepare "$__opsterm_dir/latest" && builtin printf '%s' "$$" >| "$__opsterm_dir/latest" 2>/dev/null
  return "$s"
}

# Last in PROMPT_COMMAND: from here on, the next DEBUG trap is the user's command.
__opsterm_arm() {
  local s=$?
  __opsterm_armed=1
  # Once, at the first prompt (after bash loaded HISTFILE): where history stands.
  if [[ -z $__opsterm_histnum && -o history ]] && __opsterm_hist; then __opsterm_histnum=\${__opsterm_n:-0}; fi
  return "$s"
}

if [[ $(declare -p PROMPT_COMMAND 2>/dev/null) == "declare -a"* ]]; then
  PROMPT_COMMAND=(__opsterm_precmd "\${PROMPT_COMMAND[@]}" __opsterm_arm)
else
  PROMPT_COMMAND=__opsterm_precmd\${PROMPT_COMMAND:+$'\\n'$PROMPT_COMMAND}$'\\n'__opsterm_arm
fi
# Keep an existing DEBUG trap: it runs first, then ours.
__opsterm_prev_trap=$(trap -p DEBUG)
__opsterm_prev_trap=\${__opsterm_prev_trap#"trap -- "}
__opsterm_prev_trap=\${__opsterm_prev_trap%" DEBUG"}
eval "__opsterm_prev_trap=\${__opsterm_prev_trap:-''}"
trap "\${__opsterm_prev_trap:+$__opsterm_prev_trap$'\\n'}__opsterm_preexec" DEBUG
${bind}${capture}fi
`;
}

function zshScript(o: ScriptOptions): string {
  const bind = o.key
    ? `
__opsterm_insert() {
  emulate -L zsh
  local f=$__opsterm_dir/suggestion s
  if [[ ! -r $f ]]; then zle -M "opsterm: no suggested command yet"; return 0; fi
  s=$(<$f)
  LBUFFER+=$s
}
zle -N __opsterm_insert
bindkey -M emacs '${o.key}' __opsterm_insert
bindkey -M viins '${o.key}' __opsterm_insert
`
    : "";
  const capture = o.captureFn
    ? `
if ! whence -w ${o.captureFn} >/dev/null 2>&1; then
${o.captureFn}() {
  if (( $# == 0 )); then
    print -ru2 -- "usage: ${o.captureFn} <command> [args...]: runs it with its output saved for opsterm last/explain-last"
    return 2
  fi
  local out=$__opsterm_dir/$$.out
  __opsterm_prepare $out || return 1
  "$@" 2>&1 | command tee -- $out
  local s=\${pipestatus[1]}
  __opsterm_flags+=" captured"
  return $s
}
fi
`
    : "";
  return `
# opsterm shell integration for zsh: add  eval "$(opsterm init zsh)"  to ~/.zshrc.
if [[ -o interactive ]] && (( ! \${+__opsterm_loaded} )); then
typeset -g __opsterm_loaded=1
typeset -g __opsterm_dir=${posixQuote(o.dir)}
typeset -g __opsterm_file=$__opsterm_dir/$$.last
typeset -g __opsterm_ran= __opsterm_flags= __opsterm_cmd= __opsterm_cwd= __opsterm_start=
export OPSTERM_SHELL_SESSION=$$
zmodload zsh/datetime 2>/dev/null
autoload -Uz add-zsh-hook

__opsterm_prepare() {
  [[ -d $__opsterm_dir ]] || (umask 077 && command mkdir -p -- $__opsterm_dir) || return 1
  [[ -f $1 ]] || (umask 077 && : >| $1) 2>/dev/null
}

__opsterm_preexec() {
  emulate -L zsh
  __opsterm_cmd=$1 __opsterm_cwd=$PWD __opsterm_start=\${EPOCHREALTIME-} __opsterm_flags= __opsterm_ran=1
  if [[ $1 == [[:space:]]* ]]; then __opsterm_cmd= __opsterm_flags=hidden; fi
}

__opsterm_precmd() {
  local s=$? p="\${pipestatus[*]}"
  emulate -L zsh
  [[ -n $__opsterm_ran ]] || return $s
  __opsterm_ran=
  local end=\${EPOCHREALTIME-} t=\${PS1//[^$'\\n']/} sock= pane=
  if [[ -n \${TMUX-} && -n \${TMUX_PANE-} ]]; then sock=\${TMUX%%,*} pane=$TMUX_PANE; fi
  __opsterm_prepare $__opsterm_file || return $s
  builtin printf '${PRINTF_FORMAT}' "$s" "$p" "$__opsterm_start" "$end" "" zsh "$$" "$sock" "$pane" "$(( \${#t} + 1 ))" "$__opsterm_flags" "$__opsterm_cwd" "$__opsterm_cmd" >| $__opsterm_file 2>/dev/null
  __opsterm_prepare $__opsterm_dir/latest && builtin printf '%s' $$ >| $__opsterm_dir/latest 2>/dev/null
  return $s
}

# First among precmd hooks, so $? is still the command's.
precmd_functions=(__opsterm_precmd \${precmd_functions:#__opsterm_precmd})
add-zsh-hook preexec __opsterm_preexec
${bind}${capture}fi
`;
}

function fishScript(o: ScriptOptions): string {
  const bind = o.key
    ? `
function __opsterm_insert
    set -l f $__opsterm_dir/suggestion
    if not test -r $f
        return 0
    end
    read -lz s <$f
    commandline -i -- (string trim -r -- $s | string collect)
    commandline -f repaint
end
bind ${o.key} __opsterm_insert
bind -M insert ${o.key} __opsterm_insert
`
    : "";
  const capture = o.captureFn
    ? `
if not functions -q ${o.captureFn}; and not command -q ${o.captureFn}
    function ${o.captureFn} --description 'Run a command with its output saved for opsterm last/explain-last'
        if test (count $argv) -eq 0
            echo "usage: ${o.captureFn} <command> [args...]: runs it with its output saved for opsterm last/explain-last" >&2
            return 2
        end
        set -l out $__opsterm_dir/$fish_pid.out
        __opsterm_prepare $out; or return 1
        $argv 2>&1 | command tee -- $out
        set -l s $pipestatus[1]
        set -g __opsterm_flags $__opsterm_flags captured
        return $s
    end
end
`
    : "";
  return `
# opsterm shell integration for fish: add  opsterm init fish | source  to ~/.config/fish/config.fish.
if status is-interactive; and not set -q __opsterm_loaded
set -g __opsterm_loaded 1
set -g __opsterm_dir ${fishQuote(o.dir)}
set -g __opsterm_file $__opsterm_dir/$fish_pid.last
set -gx OPSTERM_SHELL_SESSION $fish_pid
set -g __opsterm_ran
set -g __opsterm_flags

function __opsterm_prepare
    if not test -d $__opsterm_dir
        set -l u (umask)
        umask 077
        command mkdir -p -- $__opsterm_dir
        umask $u
    end
    if not test -f $argv[1]
        set -l u (umask)
        umask 077
        true >$argv[1] 2>/dev/null
        umask $u
    end
    test -f $argv[1]
end

function __opsterm_preexec --on-event fish_preexec
    set -g __opsterm_cmd $argv[1]
    set -g __opsterm_cwd $PWD
    set -g __opsterm_flags
    set -g __opsterm_ran 1
    if string match -qr '^\\s' -- $argv[1]
        set -g __opsterm_cmd ''
        set -g __opsterm_flags hidden
    end
end

function __opsterm_postexec --on-event fish_postexec
    set -l s $status
    set -l p "$pipestatus"
    test -n "$__opsterm_ran"; or return $s
    set -g __opsterm_ran
    set -l sock ''
    set -l pane ''
    if set -q TMUX; and set -q TMUX_PANE
        set sock (string split -m1 , -- $TMUX)[1]
        set pane $TMUX_PANE
    end
    __opsterm_prepare $__opsterm_file; or return $s
    builtin printf '${PRINTF_FORMAT}' $s "$p" '' '' "$CMD_DURATION" fish $fish_pid "$sock" "$pane" 1 "$__opsterm_flags" "$__opsterm_cwd" "$__opsterm_cmd" >$__opsterm_file 2>/dev/null
    __opsterm_prepare $__opsterm_dir/latest; and builtin printf '%s' $fish_pid >$__opsterm_dir/latest 2>/dev/null
    return $s
end
${bind}${capture}end
`;
}
