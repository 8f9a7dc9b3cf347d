// The tests that run in headless Chromium (~20 s; without a Chromium: one ignored test saying how
// to install it). They live in two modules, registered from this one file so that a missing
// Chromium prints one line, not one per file.
import "./_idb_backend_tests.ts";
import "./_demo_tests.ts";
