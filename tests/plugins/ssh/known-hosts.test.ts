import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkHostKey, fingerprint, hashHostName, matchHosts, parseKnownHosts } from "../../../plugins/ssh/known-hosts.ts";

// A real ed25519 public key blob and a second one.
const KEY_A = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const KEY_B = "AAAAC3NzaC1lZDI1NTE5AAAAIBkmTzHw/Sdn+3JhLm9sZWFzZSBzb21lIGtleSBwbGVh";
const blob = (k: string) => Buffer.from(k, "base64");

describe("matchHosts()", () => {
  it.each([
    { hosts: "web1", name: "web1", match: true },
    { hosts: "WEB1", name: "web1", match: true },
    { hosts: "web*", name: "web12", match: true },
    { hosts: "web?", name: "web12", match: false },
    { hosts: "[10.0.0.5]:2222", name: "[10.0.0.5]:2222", match: true },
    { hosts: "10.0.0.5", name: "[10.0.0.5]:2222", match: false },
    { hosts: "*.example.com,!secret.example.com", name: "secret.example.com", match: false },
    { hosts: "*.example.com,!secret.example.com", name: "www.example.com", match: true },
    { hosts: "!web1,web*", name: "web1", match: false },
  ])("$hosts vs $name → $match", ({ hosts, name, match }) => {
    expect(matchHosts(hosts, name)).toBe(match);
  });

  it("matches hashed |1| entries only for the hashed name", () => {
    const field = hashHostName("[127.0.0.1]:2222", randomBytes(20));
    expect(matchHosts(field, "[127.0.0.1]:2222")).toBe(true);
    expect(matchHosts(field, "[127.0.0.1]:2223")).toBe(false);
  });
});

describe("checkHostKey()", () => {
  const entries = parseKnownHosts(
    [
      "# comment",
      `web1,web2 ssh-ed25519 ${KEY_A}`,
      `${hashHostName("db1", Buffer.alloc(20, 7))} ssh-ed25519 ${KEY_B}`,
      `@cert-authority *.ca.example ssh-ed25519 ${KEY_A}`,
      "garbage line",
    ].join("\n"),
    "kh",
  );

  it.each([
    { host: "web1", key: KEY_A, status: "known" },
    { host: "web2", key: KEY_B, status: "changed" },
    { host: "db1", key: KEY_B, status: "known" },
    { host: "db1", key: KEY_A, status: "changed" },
    { host: "new", key: KEY_A, status: "unknown" },
    // A CA line never counts as the host's own key.
    { host: "x.ca.example", key: KEY_A, status: "unknown" },
  ])("$host with key $key → $status", ({ host, key, status }) => {
    expect(checkHostKey(entries, host, 22, blob(key)).status).toBe(status);
  });

  it("refuses a @revoked key for every host", () => {
    const withRevoked = [...entries, ...parseKnownHosts(`@revoked * ssh-ed25519 ${KEY_A}`, "kh")];
    expect(checkHostKey(withRevoked, "web1", 22, blob(KEY_A))).toEqual({ status: "revoked", at: "kh:1" });
  });

  it("names the expected key and line when a key changed", () => {
    const result = checkHostKey(entries, "web2", 22, blob(KEY_B));
    expect(result).toEqual({ status: "changed", expected: [{ keyType: "ssh-ed25519", fingerprint: fingerprint(blob(KEY_A)), at: "kh:2" }] });
  });

  it("prints fingerprints like OpenSSH (SHA256, base64 without padding)", () => {
    // Value printed by `ssh-keygen -lf` for this key.
    expect(fingerprint(blob(KEY_A))).toBe("SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU");
  });
});
