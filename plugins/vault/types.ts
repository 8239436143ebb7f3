/**
 * What the vault plugin provides as "vault": named secrets, unlocked once per process, and the
 * `${vault:NAME}` references other plugins resolve through it. Type-only.
 */

export interface VaultEntry {
  value: string;
  /** ISO times. */
  created: string;
  updated: string;
  note?: string;
}

/** A name with its times, never its value (what `vault list` and a model may see). */
export interface VaultEntryInfo {
  name: string;
  created: string;
  updated: string;
  note?: string;
}

export interface UnlockOptions {
  /** `--password-file`: tried after OPSTERM_VAULT_PASSWORD, before vault.passwordCommand. */
  passwordFile?: string;
}

export interface ResolvedRefs {
  /** The text with every `${vault:NAME}` replaced. Hand it to the executor only; never log it. */
  text: string;
  /** The values substituted (already registered with the redactor). */
  values: string[];
  /** The names referenced, in order of first appearance. */
  names: string[];
}

export interface VaultService {
  /** vault.enc exists (nothing is unlocked). */
  exists(): Promise<boolean>;
  /** Names and times. Unlocks. */
  list(options?: UnlockOptions): Promise<VaultEntryInfo[]>;
  /**
   * One value. Unlocks (once per process); the value is then registered with the redactor.
   * Throws E_VAULT_UNKNOWN for a name that is not in the vault.
   */
  get(name: string, options?: UnlockOptions): Promise<string>;
  /** The names `text` references; no unlock. Throws a UsageError for a malformed reference. */
  references(text: string): Promise<string[]>;
  /**
   * Throws before anything runs when `text` references a name the vault does not hold (or there is
   * no vault). Unlocks only when `text` has references.
   */
  checkRefs(text: string): Promise<void>;
  /**
   * Substitutes every reference. `quote: "shell"` quotes each value for where it stands in a POSIX
   * shell command line (bare, in '…', in "…", in $'…'); `"none"` inserts it as it is (a config value).
   */
  resolveRefs(text: string, options: { quote: "shell" | "none" }): Promise<ResolvedRefs>;
  /** Every value this process has decrypted: the redactor masks them all. */
  knownValues(): string[];
  /**
   * Adds or replaces values in one write (unlocks; a terminal is asked for the passphrase when no
   * other source gives it). For other built-ins that move a secret into the vault (migrate, provider add).
   */
  set(entries: { name: string; value: string; note?: string }[], options?: UnlockOptions): Promise<{ added: string[]; updated: string[] }>;
}

declare module "../../src/kernel/context.ts" {
  interface OpstermServices {
    vault: VaultService;
  }
}
