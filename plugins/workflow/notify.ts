/**
 * Pings for cron monitors, healthchecks.io style: `<url>/start` when a run starts, `<url>/<exit
 * code>` when it ends (0 is success), the end ping carrying the run's report as its body. Short
 * timeouts; a ping that fails is a warning, never the run's failure.
 */
export const PING_TIMEOUT_MS = 5000;

export async function ping(url: string, what: "start" | number, body: string | undefined, warn: (text: string) => void): Promise<void> {
  const target = `${url.replace(/\/+$/, "")}/${what}`;
  try {
    const { ofetch } = await import("ofetch");
    await ofetch(target, {
      method: body === undefined ? "GET" : "POST",
      body: body === undefined ? undefined : body.slice(-100_000),
      headers: body === undefined ? undefined : { "content-type": "text/plain; charset=utf-8" },
      timeout: PING_TIMEOUT_MS,
      retry: 1,
      retryDelay: 500,
      responseType: "text",
    });
  } catch (error) {
    warn(`notify: ${target} failed: ${(error as Error).message.split("\n")[0]}`);
  }
}
