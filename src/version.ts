/**
 * weir's version, the `version` of its `deno.json`.
 *
 * A module rather than a read of `deno.json`, so that it works wherever weir is imported from
 * (a JSR package, a checkout, a browser bundle). `tests/version_test.ts` fails when the two
 * differ: bump both together.
 *
 * @module
 */

/**
 * The version of weir, as in its `deno.json` (`weir --version` prints it).
 *
 * @example
 * ```ts
 * import { VERSION } from "@weir/weir";
 * import { assertMatch } from "@std/assert";
 *
 * assertMatch(VERSION, /^\d+\.\d+\.\d+/);
 * ```
 */
export const VERSION: string = "0.1.0";
