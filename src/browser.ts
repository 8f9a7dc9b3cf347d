/**
 * The browser bundle's entry (`deno task bundle` → `dist/weir.js`): the core (`@weir/weir`),
 * the testing kit (`@weir/weir/testing`) and the IndexedDB backend
 * (`@weir/weir/recovery/idb`) in one ES module, so a page's import map can point all three
 * specifiers at the one file. Nothing here uses `Deno`.
 *
 * @module
 */
export * from "../mod.ts";
export * from "./testing/mod.ts";
export * from "./recovery/idb.ts";
