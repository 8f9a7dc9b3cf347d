// Headless Chromium for the dashboard test: Debian's `chromium` driven by playwright-core.
// playwright-core is imported only when launching: importing it needs --allow-sys, which the
// test suite does not grant (the dashboard test runs the browser in a subprocess with -A).
import type { Browser } from "playwright-core";

/** Where Chromium is: `$CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`; undefined if absent. */
export function chromiumPath(): string | undefined {
  let path = "/usr/bin/chromium";
  try {
    path = Deno.env.get("CHROMIUM_PATH") ?? path;
  } catch {
    // No env permission: the default.
  }
  try {
    return Deno.statSync(path).isFile ? path : undefined;
  } catch {
    return undefined;
  }
}

/** Launches headless Chromium (no sandbox: tests may run as root in containers). */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (executablePath === undefined) {
    throw new Error(
      "Cannot find Chromium at /usr/bin/chromium; install it (apt-get install -y chromium) " +
        "or set CHROMIUM_PATH",
    );
  }
  const { chromium } = await import("playwright-core");
  return await chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}
