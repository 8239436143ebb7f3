/** Exit codes, sysexits-style (DESIGN.md §7). Documented in README "Exit codes" and `opsterm help errors`. */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  DATA: 65,
  UNAVAILABLE: 69,
  IO: 74,
  TEMPORARY: 75,
  DENIED: 77,
  CONFIG: 78,
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT] | number;
