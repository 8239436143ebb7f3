/**
 * Who runs opsterm, as audit records and approvals name them: USER, then LOGNAME, then the
 * system's idea of the current user (the environment may be empty under cron or `env -i`).
 */
import { userInfo } from "node:os";

export function currentUser(env: Record<string, string | undefined>): string {
  if (env.USER) return env.USER;
  if (env.LOGNAME) return env.LOGNAME;
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}
