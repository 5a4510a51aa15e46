import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { viewerJobUrl } from "../shared/viewer/urls.js";
import { findRunningStack, type StackFile } from "./stack-session.js";

/** What `stt open` uses of the machine, so its tests need neither a stack nor a desktop. */
export interface OpenDeps {
  runningStack(): Promise<StackFile | undefined>;
  /** The HTTP status of a HEAD request, or an error when nothing answers. */
  status(url: string): Promise<number>;
  /** The path of an executable on PATH, if there is one. */
  which(command: string): string | undefined;
  launch(command: string, args: string[]): void;
  out(line: string): void;
  err(line: string): void;
}

const defaultDeps: OpenDeps = {
  runningStack: findRunningStack,
  status: async (url) => (await fetch(url, { method: "HEAD", signal: AbortSignal.timeout(5000) })).status,
  which(command) {
    for (const dir of (process.env.PATH ?? "").split(delimiter).filter(Boolean)) {
      const path = join(dir, command);
      try {
        accessSync(path, constants.X_OK);
        return path;
      } catch {
        // not here
      }
    }
    return undefined;
  },
  launch(command, args) {
    const child = spawn(command, args, { detached: true, stdio: "ignore" });
    child.on("error", () => undefined);
    child.unref();
  },
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/**
 * `stt open <jobId>`: the URL of the job's page in the viewer that `stt up` serves in this folder (its stack
 * file names the viewer), checked with the viewer first; `--browser` also hands it to xdg-open.
 */
export async function runOpen(jobId: string, opts: { browser: boolean }, deps: OpenDeps = defaultDeps): Promise<number> {
  const stack = await deps.runningStack();
  if (!stack?.viewerUrl) {
    deps.err("no transcript viewer runs in this folder: start the local stack with `npx stt up`, which serves one");
    return 1;
  }
  const url = viewerJobUrl(stack.viewerUrl, jobId);
  let status: number;
  try {
    status = await deps.status(url);
  } catch (error) {
    deps.err(`the viewer at ${stack.viewerUrl} does not answer (${(error as Error).message})`);
    return 1;
  }
  if (status === 404) {
    deps.err(`no job ${jobId}`);
    return 1;
  }
  if (status !== 200) {
    deps.err(`the viewer answered HTTP ${status} for ${url}`);
    return 1;
  }
  deps.out(url);
  if (opts.browser) {
    const opener = deps.which("xdg-open");
    if (opener) deps.launch(opener, [url]);
    else deps.err("xdg-open is not installed here: open the URL in a browser yourself");
  }
  return 0;
}
