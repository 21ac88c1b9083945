/** Handles that must not outlive a session: timers, immediates, ports, pipes and child processes (socat). */
export const handles = (): string[] => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'FSReqPromise' && r !== 'FSReqCallback');

/** How many of each kind of handle are in `list`. */
export const count = (list: string[]): Record<string, number> => {
  const c: Record<string, number> = {};
  for (const r of list) c[r] = (c[r] ?? 0) + 1;
  return c;
};
