/**
 * `deno doc --lint` over every entry point of deno.json's `exports`, failing on any error
 * except a public signature's reference to a type of an npm dependency (rxjs's
 * `OperatorFunction`, kafkajs's `KafkaConfig`…), which weir cannot export or document. Run by `deno task check`:
 *
 *   deno run --allow-read --allow-run scripts/doc_lint.ts
 *
 * The entry points are linted together, as JSR documents the package: a type exported by one
 * of them (`DynamicSink` from `mod.ts`) is public for the others (`connectors/stdio.ts`).
 * A reference is tolerated only when the file that makes it imports the type from one of the
 * npm packages of deno.json's import map, so a private type of weir's own never passes,
 * whatever its name.
 *
 * @module
 */

/** One error of `deno doc --lint`. */
export interface DocLintError {
  /** The rule, e.g. `missing-jsdoc` or `private-type-ref`. */
  readonly kind: string;
  /** The first line of the error. */
  readonly message: string;
  /** Where: `path:line:col`. */
  readonly location: string;
  /** For `private-type-ref`: the private type's name. */
  readonly privateType: string | undefined;
}

const HEADER = /^error\[([a-z-]+)\]: (.*)$/;
const LOCATION = /^\s*-->\s+(\S+)$/;
const PRIVATE_TYPE = /references private type '([^']+)'/;
const FOUND = /^error: Found (\d+) documentation lint errors?\.?$/m;

/**
 * Parses the (uncoloured) output of `deno doc --lint`.
 *
 * @throws {Error} When the number of errors parsed differs from the count deno printed (the
 *   output format changed).
 */
export function parseDocLint(output: string): DocLintError[] {
  const errors: DocLintError[] = [];
  const lines = output.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const header = HEADER.exec(lines[i]!);
    if (header === null) continue;
    const location = LOCATION.exec(lines[i + 1] ?? "")?.[1];
    if (location === undefined) {
      throw new Error(`Cannot find the location of "${lines[i]}" in deno doc --lint's output`);
    }
    const [, kind, message] = header;
    errors.push({
      kind: kind!,
      message: message!,
      location,
      privateType: kind === "private-type-ref" ? PRIVATE_TYPE.exec(message!)?.[1] : undefined,
    });
  }
  const found = Number(FOUND.exec(output)?.[1] ?? 0);
  if (found !== errors.length) {
    throw new Error(
      `deno doc --lint reported ${found} errors but ${errors.length} were parsed: its output ` +
        "format changed; update scripts/doc_lint.ts",
    );
  }
  return errors;
}

/**
 * The names a module's source imports from the bare specifiers `packages` (default rxjs):
 * `import { type A, B as C } from "rxjs"` → A, B.
 */
export function packageImports(
  source: string,
  packages: ReadonlySet<string> = new Set(["rxjs"]),
): Set<string> {
  const names = new Set<string>();
  for (const m of source.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s*from\s*["']([^"']+)["']/g)) {
    if (!packages.has(m[2]!)) continue;
    for (const part of m[1]!.split(",")) {
      const name = part.trim().replace(/^type\s+/, "").split(/\s+as\s+/)[0]!.trim();
      if (name !== "") names.add(name);
    }
  }
  return names;
}

/**
 * True for a reference to a dependency's type: a `private-type-ref` whose type the referring
 * file imports from one of `packages`.
 *
 * @param readSource Reads a file's text, given its path.
 */
export function isPackageTypeRef(
  error: DocLintError,
  readSource: (path: string) => string,
  packages?: ReadonlySet<string>,
): boolean {
  if (error.kind !== "private-type-ref" || error.privateType === undefined) return false;
  const path = error.location.replace(/:\d+:\d+$/, "");
  return packageImports(readSource(path), packages).has(error.privateType);
}

/** What {@linkcode docLint} found. */
export interface DocLintResult {
  /** The errors that fail the check. */
  readonly errors: DocLintError[];
  /** How many references to dependencies' types were tolerated. */
  readonly tolerated: number;
}

/**
 * Runs `deno doc --lint` over `entries` together, in `cwd`.
 *
 * @throws {Error} When deno doc fails without reporting lint errors (a module that does not
 *   resolve, say), with its output.
 */
export async function docLint(
  entries: readonly string[],
  cwd: string | URL,
  packages?: ReadonlySet<string>,
): Promise<DocLintResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", ...entries],
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  const all = parseDocLint(text);
  if (all.length === 0 && !out.success) {
    throw new Error(`deno doc --lint ${entries.join(" ")} failed without lint errors:\n${text}`);
  }
  const sources = new Map<string, string>();
  const read = (path: string) => {
    let s = sources.get(path);
    if (s === undefined) sources.set(path, s = Deno.readTextFileSync(path));
    return s;
  };
  const errors = all.filter((e) => !isPackageTypeRef(e, read, packages));
  return { errors, tolerated: all.length - errors.length };
}

if (import.meta.main) {
  const root = new URL("..", import.meta.url);
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const entries = Object.values(config.exports as Record<string, string>);
  const imports = Object.entries(config.imports as Record<string, string>);
  const packages = new Set(imports.filter(([, v]) => v.startsWith("npm:")).map(([k]) => k));
  const { errors, tolerated } = await docLint(entries, root, packages);
  for (const e of errors) console.error(`error[${e.kind}]: ${e.message}\n  --> ${e.location}`);
  if (errors.length > 0) {
    console.error(
      `deno doc --lint ${entries.join(" ")}: ${errors.length} errors ` +
        `(and ${tolerated} tolerated references to npm packages' types); run it for the details`,
    );
    Deno.exit(1);
  }
  console.log(
    `deno doc --lint: ${entries.length} entry points clean ` +
      `(${tolerated} references to npm packages' types tolerated)`,
  );
}
