/**
 * The browser bundle's entry (`deno task bundle` → `dist/weir.js`): the API of `@weir/weir`
 * and the IndexedDB backend (`@weir/weir/recovery/idb`) in one ES module, so a page's import
 * map can point both specifiers at the one file. Nothing here uses `Deno`.
 *
 * To stay within the bundle's 40 KiB gzipped budget it leaves out what a page rarely needs, all
 * browser-safe and available to a page that bundles its own entry (esbuild then keeps only what
 * the page imports): `visualize`/`flowGraph` (drawing a flow), the testing kit
 * (`@weir/weir/testing`) and serde (`@weir/weir/serde`). Both re-export `src/api.ts`;
 * `tests/browser/browser_safe_test.ts` checks that this entry's exports are `mod.ts`'s less exactly
 * those, plus the backend's.
 *
 * @module
 */
export * from "./api.ts";

// The IndexedDB backend ("@weir/weir/recovery/idb")
export * from "./recovery/idb.ts";
