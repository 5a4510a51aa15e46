/** Stitcher time and peak memory per transcript length, each in a fresh child process. */
import { startChild } from "./lib/child.js";
import type { StitchChildArgs, StitchRun } from "./stitch-child.js";

export async function benchStitch(args: StitchChildArgs): Promise<StitchRun> {
  const child = await startChild<{ pid: number }>(new URL("./stitch-child.ts", import.meta.url), {}, { nodeArgs: ["--expose-gc"] });
  try {
    return await child.call<StitchRun>("run", args);
  } finally {
    await child.stop();
  }
}
