import { describe, expect, it } from "vitest";
import { parseEndpoint, parseMode } from "../../../plugins/scp/spec.ts";
import { parseVia } from "../../../src/lib/args.ts";
import { formatBytes } from "../../../src/lib/format.ts";

describe("parseEndpoint()", () => {
  it.each([
    { text: "web1:/etc/motd", want: { kind: "remote", server: "web1", path: "/etc/motd" } },
    { text: "web1:", want: { kind: "remote", server: "web1", path: "." } },
    { text: "web1:logs/app.log", want: { kind: "remote", server: "web1", path: "logs/app.log" } },
    { text: "db.prod-1:/a:b", want: { kind: "remote", server: "db.prod-1", path: "/a:b" } },
    { text: "./a:b", want: { kind: "local", path: "./a:b" } },
    { text: "/tmp/x:y", want: { kind: "local", path: "/tmp/x:y" } },
    { text: "~/notes.txt", want: { kind: "local", path: "~/notes.txt" } },
    { text: "file.txt", want: { kind: "local", path: "file.txt" } },
    { text: "-web:/x", want: { kind: "local", path: "-web:/x" } },
  ])("parseEndpoint($text) is $want.kind", ({ text, want }) => {
    expect(parseEndpoint(text)).toEqual(want);
  });

  it("refuses empty paths and control characters in remote paths", () => {
    expect(() => parseEndpoint("")).toThrow(/empty/);
    expect(() => parseEndpoint("web1:/etc/\nmotd")).toThrow(/control characters/);
  });
});

describe("parseMode()", () => {
  it.each([
    ["0644", 0o644],
    ["600", 0o600],
    [755, 0o755],
    ["4755", 0o4755],
  ])("parseMode(%s) = %o", (input, want) => {
    expect(parseMode(input)).toBe(want);
  });
  it.each(["0800", "rwx", "12", "077777"])("parseMode(%s) is a usage error", (input) => {
    expect(() => parseMode(input)).toThrow(expect.objectContaining({ code: "E_SCP_MODE", exitCode: 2 }));
  });
  it("parseMode(undefined) is undefined", () => expect(parseMode(undefined)).toBeUndefined());
});

describe("parseVia()", () => {
  it("splits hop ids and refuses option-like or spaced ones", () => {
    expect(parseVia("bastion, inner")).toEqual(["bastion", "inner"]);
    expect(parseVia(undefined)).toBeUndefined();
    expect(() => parseVia("-oProxyCommand=x")).toThrow(expect.objectContaining({ code: "E_VIA" }));
  });
});

describe("formatBytes()", () => {
  it.each([
    [0, "0 B"],
    [1536, "1.5 KiB"],
    [5 * 1024 * 1024, "5.0 MiB"],
    [300 * 1024 * 1024, "300 MiB"],
  ])("formatBytes(%i) = %s", (n, want) => expect(formatBytes(n)).toBe(want));
});
