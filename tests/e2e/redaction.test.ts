/**
 * Issue 8 §5 on the built binary: each kind of secret that used to get through goes through
 * `opsterm` for real — piped into a question (to the fake provider, history and the saved
 * conversation) and inside a command line run on a real sshd (into the audit log and history) —
 * and not one byte of it may be found in the request or in any file under OPSTERM_HOME.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { opstermAsync as runBinary, type Run } from "../helpers/binary.ts";
import { startFakeAi, type FakeAi } from "../helpers/fake-ai-server.ts";
import { startSshd, writeOpstermHome, type OpstermHome, type SshdHandle } from "../helpers/sshd.ts";

interface Finding {
  name: string;
  /** One line as it would be typed or printed. */
  line: string;
  /** The secret: none of its bytes may arrive. A zero-width split counts each part. */
  secrets: string[];
}

const ZW_TOKEN = ["ghp_0OGr4hTxoF54Fzbka8", "FRCztUjAwyuh1vauWv"];
const PEM_LINE = "MHcCAQEEIPlTxrLvjsNivo4qqYw5IrzJ4Z6ULByMq8mK2pLx0Qw9eRt5yUi7oP3aS1dF6gH4jKlZ3Dqw";

const FINDINGS: Finding[] = [
  { name: "mysql -pPASS", line: "mysql -h db-1 -u app -pS3cretPassw0rdX app", secrets: ["S3cretPassw0rdX"] },
  { name: "curl -u user:pass", line: "curl -u deploy:tH8LmyqoYMaaQ https://ci.example.com/api", secrets: ["tH8LmyqoYMaaQ"] },
  { name: "sshpass -p", line: "sshpass -p hunter2hunterZ ssh deploy@web-1", secrets: ["hunter2hunterZ"] },
  { name: "YAML PASSWORD:", line: "PASSWORD: Yq7rT2mW9zK", secrets: ["Yq7rT2mW9zK"] },
  { name: "sk_live_", line: "stripe key sk_live_u8jzPde0IgxLd6GncfBAepfJ", secrets: ["sk_live_u8jzPde0IgxLd6GncfBAepfJ"] },
  { name: "AIza", line: "maps key=AIza2hpChYgCfrL1spNxnyVmihA-2O76UMFxFkM", secrets: ["AIza2hpChYgCfrL1spNxnyVmihA-2O76UMFxFkM"] },
  { name: "hf_", line: "HF_TOKEN=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", secrets: ["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"] },
  { name: "npm_", line: "//registry.npmjs.org/:_authToken=npm_1f8rESQedUStPKR0CsTy4Qwb8DwkNhFdnXsi", secrets: ["npm_1f8rESQedUStPKR0CsTy4Qwb8DwkNhFdnXsi"] },
  { name: "ya29.", line: "access token ya29.a0AfB_byC3x9L2mN8pQ4rS7tU1vW6yZ0aB5cD", secrets: ["ya29.a0AfB_byC3x9L2mN8pQ4rS7tU1vW6yZ0aB5cD"] },
  {
    name: "Azure AccountKey=",
    line: "DefaultEndpointsProtocol=https;AccountName=logs;AccountKey=9SkpXz9w3QlY7Zkuvqdt7s8Stqcbnr3yBdGBLEPH1qhT61qtc4xatws8phP9nhFyJfm5di4PzJ59FHz5r1pY4O==;EndpointSuffix=core.windows.net",
    secrets: ["9SkpXz9w3QlY7Zkuvqdt7s8Stqcbnr3yBdGBLEPH1qhT61qtc4xatws8phP9nhFyJfm5di4PzJ59FHz5r1pY4O=="],
  },
  { name: 'docker config "auth"', line: '{"auths":{"registry.example.com":{"auth":"ZGVwbG95OnMzY3JldC1wYXNzd29yZA=="}}}', secrets: ["ZGVwbG95OnMzY3JldC1wYXNzd29yZA=="] },
  { name: "base64 k8s secret password:", line: "  password: cGFzc3dvcmQxMjM0NTY3OA==", secrets: ["cGFzc3dvcmQxMjM0NTY3OA=="] },
  { name: "X-API-Key:", line: "curl -H 'X-API-Key: dlm7tOtHWnsCGRlrwZbqcabUGJmGEp7C' https://api.example.com", secrets: ["dlm7tOtHWnsCGRlrwZbqcabUGJmGEp7C"] },
  { name: "an AWS secret without its key name", line: "creds deploy nkHIfxIq2HZt/PlJhx2jIclHkCiHp6bR1IqfEouH", secrets: ["nkHIfxIq2HZt/PlJhx2jIclHkCiHp6bR1IqfEouH"] },
  { name: "a PEM body without its header", line: `key ${PEM_LINE}`, secrets: [PEM_LINE] },
  { name: "a token split by a zero-width character", line: `token ${ZW_TOKEN.join("\u200b")}`, secrets: ZW_TOKEN },
  { name: "a URL password containing a raw @", line: "mongodb://admin:p@ssw0rdQ7@db-1:27017/admin", secrets: ["p@ssw0rdQ7"] },
];

const K8S_SECRET_YAML = "apiVersion: v1\ndata:\n  tls.key: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2\n  username: ZGVwbG95LXVzZXI=\nkind: Secret\nmetadata:\n  name: app\n";
const K8S_SECRETS = ["LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2", "ZGVwbG95LXVzZXI="];

/** Every file under `dir`, as bytes. */
function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  const out: { path: string; bytes: Buffer }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) out.push(...filesUnder(path));
    else if (st.isFile()) out.push({ path, bytes: readFileSync(path) });
  }
  return out;
}

function expectNowhere(secrets: string[], places: { where: string; bytes: Buffer | string }[]): void {
  for (const secret of secrets) {
    const needle = Buffer.from(secret);
    for (const p of places) {
      const hay = typeof p.bytes === "string" ? Buffer.from(p.bytes) : p.bytes;
      expect(hay.includes(needle), `${JSON.stringify(secret)} found in ${p.where}`).toBe(false);
    }
  }
}

/** The built binary with exactly `env` (and `input` on its stdin), not blocking the servers in this process. */
function opstermAsync(args: string[], env: Record<string, string>, input?: string): Promise<Run> {
  return runBinary(args, { home: env.OPSTERM_HOME, env, clean: true, input });
}

let ai: FakeAi;
let sshd: SshdHandle;
const homes: OpstermHome[] = [];

beforeAll(async () => {
  ai = await startFakeAi();
  sshd = await startSshd();
});
afterAll(async () => {
  await ai?.close();
  await sshd?.stop();
  for (const h of homes) h.cleanup();
});

function home(): OpstermHome {
  const h = writeOpstermHome({ servers: { web1: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
  homes.push(h);
  return { ...h, env: { ...h.env, OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_MODEL: "fake-model" } };
}

describe("dist/opsterm redaction (issue 8 §5)", () => {
  it("piped input holding every kind reaches the provider, history and the saved conversation without a byte of any secret", async () => {
    const h = home();
    ai.reset();
    // The model answers with one of the secrets too: the saved conversation must not keep it.
    ai.enqueue(ai.stream(["These are credentials; rotate ", FINDINGS[4].secrets[0], " first."]));
    const input = [...FINDINGS.map((f) => f.line), K8S_SECRET_YAML, "-----BEGIN RSA PRIVATE KEY-----", PEM_LINE, "-----END RSA PRIVATE KEY-----", ""].join("\n");
    const r = await opstermAsync(["what is in this file?"], h.env, input);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/redacted \d+ secret values before sending/);
    const sent = ai.chats()[0].raw;
    for (const f of FINDINGS) expect(sent, f.name).toContain("[REDACTED:");
    const all = [...FINDINGS.flatMap((f) => f.secrets), ...K8S_SECRETS];
    // The answer's copy of the Stripe key is on the terminal (the user's own screen) but nowhere else.
    expectNowhere(all, [{ where: "the request to the provider", bytes: sent }, ...filesUnder(h.home).map((f) => ({ where: f.path, bytes: f.bytes }))]);
    expect(filesUnder(h.home).some((f) => f.path.endsWith("last-conversation.json"))).toBe(true);
    // Compacted into history.db, still clean.
    expect((await opstermAsync(["history", "compact"], h.env)).code).toBe(0);
    expectNowhere(all, filesUnder(h.home).map((f) => ({ where: f.path, bytes: f.bytes })));
  });

  it.each(FINDINGS)("a command line with $name is run on the server, and the audit log and history hold none of it", async (f) => {
    const h = home();
    const command = `echo '${f.line.replace(/'/g, "")}' > /dev/null`;
    const r = await opstermAsync(["exec", "web1", "--yes", "--", command], h.env);
    const audit = readFileSync(join(h.home, "audit", "audit.jsonl"), "utf8");
    expect(audit).toContain("[REDACTED:");
    if (f.secrets === ZW_TOKEN) {
      // The policy refuses invisible characters in a command; the refusal is audited, redacted.
      expect(r.code).toBe(77);
      expect(r.stderr).toContain("input.invisible-char");
      expect(audit.trim().split("\n")).toHaveLength(1);
    } else {
      expect(r.code, r.stderr).toBe(0);
      expect(audit.trim().split("\n")).toHaveLength(2);
    }
    expect((await opstermAsync(["history", "compact"], h.env)).code).toBe(0);
    expectNowhere(f.secrets, [...filesUnder(h.home).map((x) => ({ where: x.path, bytes: x.bytes })), { where: "stderr", bytes: r.stderr }]);
  });
});
