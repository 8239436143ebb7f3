/**
 * Differential ground truth (issue 10): commands the classifier auto-allows run for real under
 * `strace -f` in a bubblewrap sandbox; none may write, rename, unlink, chmod, set the clock,
 * change links or routes, open a non-unix socket, read a planted secret or outrun its limit.
 * Variants come from the allow-list's own option tables. CI runs a deterministic spread of them
 * plus every seed (the classes); `npm run policy:differential` runs all of them.
 */
import { describe, expect, it } from "vitest";
import { autoAllowedJobs, sample } from "./differential/jobs.ts";
import { runAll, sandboxAvailable, traceViolations } from "./differential/sandbox.ts";
import { SEEDS, generateVariants } from "./differential/variants.ts";

const CI_COUNT = Number(process.env.POLICY_DIFFERENTIAL_COUNT ?? 700);

describe("the strace detector", () => {
  it("sees writes, clock changes, link changes, inet sockets and planted secrets", () => {
    expect(traceViolations('12 openat(AT_FDCWD</tmp/work>, "/etc/x", O_WRONLY|O_CREAT|O_TRUNC, 0666) = -1 EROFS (Read-only file system)')).toMatchObject([{ kind: "write" }]);
    expect(traceViolations("6 clock_settime(CLOCK_REALTIME, {tv_sec=978307200, tv_nsec=0}) = -1 EPERM (Operation not permitted)")).toMatchObject([{ kind: "clock" }]);
    expect(traceViolations("12 sendmsg(3<socket:[1]>, {msg_iov=[{iov_base=[{nlmsg_len=32, nlmsg_type=RTM_NEWLINK, nlmsg_flags=NLM_F_REQUEST|NLM_F_ACK, nlmsg_seq=1, nlmsg_pid=0}, {ifi_family=AF_UNSPEC, ifi_type=ARPHRD_NETROM, ifi_index=if_nametoindex(\"lo\"), ifi_flags=0, ifi_change=0x1}], iov_len=32}]}, 0) = 32")).toMatchObject([{ kind: "netlink" }]);
    expect(traceViolations("4 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 4")).toMatchObject([{ kind: "socket" }]);
    expect(traceViolations('4 openat(3</home/alice>, ".netrc", O_RDONLY) = 4</home/alice/.netrc>')).toMatchObject([{ kind: "secret" }]);
    expect(traceViolations('4 openat(AT_FDCWD</tmp/work>, "a.txt", O_RDONLY) = 3</tmp/work/a.txt>')).toEqual([]);
    expect(traceViolations("4 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3")).toEqual([]);
  });
});

describe("differential: auto-allowed commands run in a sandbox", () => {
  it("bwrap and strace run here (CI installs bubblewrap and strace)", () => {
    expect(sandboxAvailable()).toBe(true);
  });

  it(
    "no auto-allowed variant writes, changes the system, talks to the network, reads a planted secret or hangs",
    async () => {
      const variants = generateVariants();
      expect(variants.length).toBeGreaterThan(5000);
      const { jobs } = autoAllowedJobs(variants);
      expect(jobs.length).toBeGreaterThan(1500);
      const seeds = new Set(SEEDS);
      const chosen = sample(jobs, CI_COUNT, (j) => seeds.has(j.command));
      const { violations, ran } = await runAll(chosen, { parallel: 2, batch: Math.ceil(chosen.length / 4) });
      expect(ran).toBe(chosen.length);
      expect(violations.map((v) => `${v.kind} ${v.command}: ${v.detail}`)).toEqual([]);
    },
    170_000,
  );

  it("the sandbox does see what an unsafe command does (the test can fail)", async () => {
    const { violations } = await runAll(
      [
        { command: "date --set=2001-01-01", limit: 2 },
        { command: "ip link set lo down", limit: 2 },
        { command: "cat /home/alice/.netrc", limit: 2 },
        { command: "grep -d recurse -H '' /home", limit: 2 },
        { command: "sleep 5", limit: 2 },
        { command: "touch /tmp/x", limit: 2 },
      ],
      { parallel: 1 },
    );
    expect(new Set(violations.map((v) => `${v.kind} ${v.command}`))).toEqual(
      new Set(["clock date --set=2001-01-01", "netlink ip link set lo down", "secret cat /home/alice/.netrc", "secret grep -d recurse -H '' /home", "time sleep 5", "write touch /tmp/x"]),
    );
  }, 60_000);
});
