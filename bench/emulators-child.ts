/**
 * fauxqs and dynalite in their own process: fauxqs keeps every object in memory, so a chunker measured in the
 * same process would be charged for the whole uploaded recording, and a stack measured beside them would share
 * its event loop with them. With the pipeline's resources created (the default), or with nothing created
 * (`resources: false`: a local stack in the parent creates its own, bench/lib/emulators-bridge.ts). Besides the
 * endpoints it answers `nextObjects`: the objects created (or deleted) in a bucket since the last call, which a
 * parent's event runner turns into S3 events, as a stack does with emulators of its own.
 */
import { createClients } from "../shared/clients.js";
import { startEmulators, type ObjectCreated } from "../local/emulators.js";
import { createResources, localDynamo, type LocalResources } from "../local/resources.js";
import { childArgs, fatal, serve } from "./lib/child.js";

export interface EmulatorsChildArgs {
  visibilityTimeoutSeconds?: number;
  /** False: nothing created on them. Default true. */
  resources?: boolean;
}

export interface EmulatorsReady {
  endpoints: { aws: string; dynamodb: string };
  resources: LocalResources;
}

/** What a child started with `resources: false` announces. */
export type BareEmulatorsReady = Pick<EmulatorsReady, "endpoints">;

export interface NextObjectsArg {
  bucket: string;
  status: "uploaded" | "deleted";
}

/** How long a `nextObjects` call waits for an event before it answers with none (the parent asks again). */
const WAIT_MS = 10_000;

/** One bucket's events, read from the emulators from the first call on, handed out in order. */
class EventFeed {
  private readonly events: ObjectCreated[] = [];
  private wake: (() => void) | undefined;

  constructor(source: AsyncIterable<ObjectCreated>) {
    void (async () => {
      for await (const event of source) {
        this.events.push(event);
        this.wake?.();
      }
    })();
  }

  async next(): Promise<ObjectCreated[]> {
    if (this.events.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, WAIT_MS);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.events.splice(0);
  }
}

async function main(): Promise<void> {
  const { visibilityTimeoutSeconds = 300, resources: create = true } = childArgs<EmulatorsChildArgs>();
  const emulators = await startEmulators();
  const endpoints = { aws: emulators.awsEndpoint, dynamodb: emulators.dynamodbEndpoint };
  const resources = create
    ? await createResources(createClients(endpoints), localDynamo(endpoints.dynamodb), { visibilityTimeoutSeconds, maxReceiveCount: 5 })
    : undefined;
  // Never aborted: the feeds end with the process.
  const stopping = new AbortController();
  const feeds = new Map<string, EventFeed>();
  serve(
    {
      nextObjects: ({ bucket, status }: NextObjectsArg) => {
        const name = `${status}:${bucket}`;
        let feed = feeds.get(name);
        if (!feed) {
          const source = status === "uploaded" ? emulators.objectsCreated(bucket, stopping.signal) : emulators.objectsRemoved(bucket, stopping.signal);
          feed = new EventFeed(source);
          feeds.set(name, feed);
        }
        return feed.next();
      },
      rssMb: () => process.memoryUsage().rss / 2 ** 20,
    },
    resources ? ({ endpoints, resources } satisfies EmulatorsReady) : ({ endpoints } satisfies BareEmulatorsReady),
  );
}

main().catch(fatal);
