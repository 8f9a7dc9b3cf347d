/**
 * Runs `deno` itself as a subprocess, for tests that check what a user's command does.
 *
 * @module
 */

/** A finished process: its exit code and its decoded output. */
export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `deno <args>` in `cwd` without colours and waits for it to exit. */
export async function runDeno(args: string[], cwd: string): Promise<Ran> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
