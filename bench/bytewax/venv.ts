/**
 * Bytewax 0.21.1 in a local virtual environment for `deno task bench:bytewax`: created on first
 * use with `python3 -m venv` and `pip install bytewax==0.21.1`, never installed globally.
 *
 * @module
 */

/** The Bytewax version the bench compares with. */
export const BYTEWAX_VERSION = "0.21.1";

/** Where the virtual environment lives: `$XDG_CACHE_HOME/weir/…` or `~/.cache/weir/…`. */
export function venvDir(): string {
  const cache = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "."}/.cache`;
  return `${cache}/weir/bytewax-${BYTEWAX_VERSION}-venv`;
}

/** The venv's interpreter, ready to run `flows.py`, or why the Bytewax column is skipped. */
export type BytewaxPython = { python: string } | { skip: string };

async function output(cmd: string, args: string[]): Promise<{ ok: boolean; text: string }> {
  try {
    const r = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const dec = new TextDecoder();
    return { ok: r.success, text: (dec.decode(r.stdout) + dec.decode(r.stderr)).trim() };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { ok: false, text: `${cmd} not found` };
    throw err;
  }
}

/** The last non-empty line of a command's output: pip and venv put the reason there. */
function lastLine(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return lines[lines.length - 1] ?? "no output";
}

async function installedVersion(python: string): Promise<string | undefined> {
  const r = await output(python, [
    "-c",
    "import importlib.metadata as m, bytewax._bytewax; print(m.version('bytewax'))",
  ]);
  return r.ok ? r.text : undefined;
}

/**
 * Returns the venv's Python with Bytewax {@linkcode BYTEWAX_VERSION}, creating the venv if
 * needed (`log` reports the steps: pip takes a while). When python3, its venv module or the
 * install is missing, returns a one-line reason instead and removes a half-made venv, so the
 * next run tries again.
 */
export async function bytewaxPython(log: (line: string) => void): Promise<BytewaxPython> {
  const dir = venvDir();
  const python = `${dir}/bin/python`;
  if (await installedVersion(python) === BYTEWAX_VERSION) return { python };

  const py3 = await output("python3", ["--version"]);
  if (!py3.ok) {
    return { skip: `python3 is not available (${lastLine(py3.text)}): Bytewax column skipped` };
  }
  log(`Creating ${dir} with ${py3.text} and installing bytewax==${BYTEWAX_VERSION} (once)`);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir.slice(0, dir.lastIndexOf("/")), { recursive: true });
  const venv = await output("python3", ["-m", "venv", dir]);
  if (!venv.ok) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    return {
      skip: `python3 -m venv failed (${lastLine(venv.text)}): Bytewax column skipped; ` +
        `install Python's venv module (e.g. apt-get install python3-venv) to compare`,
    };
  }
  const pip = await output(`${dir}/bin/python`, [
    "-m",
    "pip",
    "install",
    "--disable-pip-version-check",
    "--quiet",
    `bytewax==${BYTEWAX_VERSION}`,
  ]);
  const version = pip.ok ? await installedVersion(python) : undefined;
  if (version !== BYTEWAX_VERSION) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    return {
      skip: `pip could not install bytewax==${BYTEWAX_VERSION} into ${dir} ` +
        `(${pip.ok ? `found version ${version}` : lastLine(pip.text)}): Bytewax column skipped`,
    };
  }
  return { python };
}
