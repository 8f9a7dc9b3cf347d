/**
 * The browser bundle's entry (`deno task bundle` → `dist/weir.js`): the core (`@weir/weir`) and
 * the IndexedDB backend (`@weir/weir/recovery/idb`) in one ES module, so a page's import map can
 * point both specifiers at the one file. The testing kit and serde are browser-safe too, but left
 * out to keep the bundle within its budget: a page that wants them bundles its own entry (esbuild
 * then keeps only what the page imports). Nothing here uses `Deno`.
 *
 * @module
 */
export * from "../mod.ts";
export * from "./recovery/idb.ts";
