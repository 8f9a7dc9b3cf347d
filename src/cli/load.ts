/**
 * Importing the flow module a command line names and finding its `Dataflow`, and printing
 * what went wrong. Deno only.
 *
 * @module
 */
import { Dataflow } from "../dataflow/dataflow.ts";
import { type CliOptions, type CliOutput, UsageError } from "./args.ts";

/**
 * Turns a module argument into an import specifier: URLs and specifiers with a scheme
 * (`file:`, `https:`, `jsr:`, `npm:`) as they are, paths resolved against the working
 * directory into a `file:` URL (with spaces, `#`, `?` and `%` escaped).
 */
export function moduleUrl(module: string): { url: string; path: string | undefined } {
  // Two or more letters before the colon: a Windows drive letter (`C:`) is a path.
  if (/^[A-Za-z][A-Za-z0-9+.-]+:/.test(module)) return { url: module, path: undefined };
  const slashed = module.replaceAll("\\", "/");
  const absolute = slashed.startsWith("/") || /^[A-Za-z]:\//.test(slashed);
  const path = absolute ? slashed : `${Deno.cwd().replaceAll("\\", "/")}/${slashed}`;
  const url = new URL("file:///");
  url.pathname = (path.startsWith("/") ? path : `/${path}`).replaceAll("%", "%25");
  return { url: url.href, path: module };
}

/** Describes a value's type for an error message. */
function typeName(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === "string" && ctor.name !== "" ? `a ${ctor.name}` : "an object";
}

/** A failure of the flow's own code while loading it (not a usage error): exit code 1. */
class LoadError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
  }
}

/** Imports the module and returns the Dataflow the options name. */
export async function loadFlow(opts: CliOptions): Promise<Dataflow> {
  const { url, path } = moduleUrl(opts.module);
  if (path !== undefined) {
    try {
      await Deno.stat(new URL(url));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new UsageError(`Module not found: ${opts.module}`);
      }
      // Anything else (permissions): let the import report it.
    }
  }
  let mod: Record<string, unknown>;
  try {
    mod = await import(url);
  } catch (err) {
    throw new LoadError(`Could not import ${opts.module}: ${describe(err)}`, err);
  }
  const flows = Object.keys(mod).filter((k) => mod[k] instanceof Dataflow).sort();
  const hint = flows.length > 0
    ? `; its Dataflow exports: ${flows.join(", ")}`
    : "; it exports no Dataflow";
  const what = `Export "${opts.exportName}" of ${opts.module}`;
  if (!(opts.exportName in mod)) {
    throw new UsageError(`${opts.module} has no export "${opts.exportName}"${hint}`);
  }
  let value = mod[opts.exportName];
  if (typeof value === "function") {
    try {
      value = await value(...(opts.factoryArgs ?? []));
    } catch (err) {
      throw new LoadError(`${what} threw: ${describe(err)}`, err);
    }
    if (!(value instanceof Dataflow)) {
      throw new UsageError(`${what} returned ${typeName(value)}, not a Dataflow${hint}`);
    }
    return value;
  }
  if (opts.factoryArgs !== undefined) {
    throw new UsageError(`${what} is not a function, so it takes no arguments${hint}`);
  }
  if (!(value instanceof Dataflow)) {
    if (typeName(value) === "a Dataflow") {
      throw new UsageError(
        `${what} is a Dataflow of another copy of weir than the CLI's; ` +
          `import weir from the same place as the CLI`,
      );
    }
    throw new UsageError(`${what} is not a Dataflow (got ${typeName(value)})${hint}`);
  }
  return value;
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Prints the stack of an error's cause (or the error's own, for a load failure). */
export function printCause(err: unknown, out: CliOutput): void {
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error && cause.stack) out.error(`Caused by: ${cause.stack}`);
  else if (cause !== undefined) out.error(`Caused by: ${describe(cause)}`);
}
