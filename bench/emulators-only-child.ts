/**
 * fauxqs and dynalite in a process of their own, with nothing created on them: a local stack in the parent
 * makes its resources there (startLocalStack's `emulators`, through bench/lib/emulators-bridge.ts). Besides
 * the endpoints it answers `nextObjects`: the objects created (or deleted) in a bucket since the last call,
 * which the parent's event runner turns into S3 events, as the stack does with emulators of its own.
 */
import { startEmulators, type ObjectCreated } from "../local/emulators.js";
import { fatal, serve } from "./lib/child.js";

export interface EmulatorsOnlyReady {
  awsEndpoint: string;
  dynamodbEndpoint: string;
}

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
  const emulators = await startEmulators();
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
    { awsEndpoint: emulators.awsEndpoint, dynamodbEndpoint: emulators.dynamodbEndpoint } satisfies EmulatorsOnlyReady,
  );
}

main().catch(fatal);
