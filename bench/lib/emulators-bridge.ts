/**
 * Emulators in a child process (bench/emulators-child.ts, nothing created on them) as a local stack's `emulators`: the endpoints,
 * and the objects created or deleted in a bucket read from the child, one call at a time, until the stack
 * stops. Stopping the stack stops the child.
 */
import type { LocalEmulators, ObjectCreated } from "../../local/emulators.js";
import type { BareEmulatorsReady, EmulatorsChildArgs, NextObjectsArg } from "../emulators-child.js";
import { startChild, type Child } from "./child.js";

/** The emulators as a stack takes them, and the child's pid (for its CPU figures). */
export async function startEmulatorsChild(): Promise<{ emulators: LocalEmulators; pid: number }> {
  const child = await startChild<BareEmulatorsReady>(new URL("../emulators-child.ts", import.meta.url), { resources: false } satisfies EmulatorsChildArgs);
  return { emulators: bridge(child), pid: child.pid };
}

function bridge(child: Child<BareEmulatorsReady>): LocalEmulators {
  async function* feed(bucket: string, status: NextObjectsArg["status"], signal: AbortSignal): AsyncGenerator<ObjectCreated> {
    const aborted = new Promise<undefined>((resolve) => {
      if (signal.aborted) resolve(undefined);
      else signal.addEventListener("abort", () => resolve(undefined), { once: true });
    });
    while (!signal.aborted) {
      const events = await Promise.race([child.call<ObjectCreated[]>("nextObjects", { bucket, status } satisfies NextObjectsArg), aborted]);
      if (!events) return;
      yield* events;
    }
  }
  return {
    awsEndpoint: child.ready.endpoints.aws,
    dynamodbEndpoint: child.ready.endpoints.dynamodb,
    objectsCreated: (bucket, signal) => feed(bucket, "uploaded", signal),
    objectsRemoved: (bucket, signal) => feed(bucket, "deleted", signal),
    stop: () => child.stop(),
  };
}
