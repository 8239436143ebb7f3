/**
 * `opsterm doctor` findings for the vault: the file, its work factor and mode, read without the
 * passphrase (doctor never unlocks anything).
 */
import { statSync } from "node:fs";
import type { DoctorFinding } from "../../src/kernel/index.ts";
import { readVaultFile } from "./file.ts";
import { parseVault } from "./format.ts";

export function vaultDoctor(path: string): DoctorFinding[] {
  const found: DoctorFinding[] = [{ kind: "file", path, description: "vault (encrypted secrets)" }];
  try {
    const text = readVaultFile(path);
    if (text === undefined) return [...found, { kind: "check", name: "vault", status: "ok", detail: "no vault yet (opsterm vault init creates one)" }];
    const { header } = parseVault(text, path);
    const mode = statSync(path).mode & 0o777;
    const detail = `${path}: scrypt logN ${header.kdf.logN}, ${text.length} bytes, mode 0${mode.toString(8)}`;
    if (mode & 0o077) return [...found, { kind: "check", name: "vault", status: "warn", detail, hint: `Others may read the sealed file: chmod 600 ${path}` }];
    return [...found, { kind: "check", name: "vault", status: "ok", detail }];
  } catch (error) {
    const e = error as { message?: string; hint?: string };
    // Only the vault's own commands and ${vault:…} references need it: not a doctor failure.
    return [...found, { kind: "check", name: "vault", status: "warn", detail: String(e.message ?? error), hint: e.hint }];
  }
}
