// Starts a TypeScript worker entry from source (tests, bench, the CLI: everything that runs under tsx).
// Node 20 does not pass tsx's loader on to worker threads, so the worker registers it itself, as bin/stt.js
// does for the CLI. Lambda never loads this file: its workers are bundled to JavaScript.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.tsEntry);
