import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import { startFauxqs } from "fauxqs";

const require = createRequire(import.meta.url);
// dynalite ships CommonJS without types.
const dynalite = require("dynalite") as (options: Record<string, unknown>) => Server;

export interface Emulators {
  /** fauxqs: S3, SQS and SNS on one endpoint. */
  awsEndpoint: string;
  dynamodbEndpoint: string;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  awsPort?: number;
  dynamodbPort?: number;
  /** Folder for dynalite's LevelDB files; omitted = in memory. */
  dynamodbPath?: string;
}

/** Starts the real emulators from npm in this process: fauxqs (in memory) and dynalite (on disk when a path is given). */
export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  const fauxqs = await startFauxqs({ port: options.awsPort ?? 0, logger: false, host: "127.0.0.1" });
  if (options.dynamodbPath) mkdirSync(options.dynamodbPath, { recursive: true });
  const db = dynalite({ path: options.dynamodbPath, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    db.once("error", reject);
    db.listen(options.dynamodbPort ?? 0, "127.0.0.1", () => resolve());
  });
  const address = db.address();
  const dynamodbPort = typeof address === "object" && address ? address.port : 0;
  return {
    awsEndpoint: `http://127.0.0.1:${fauxqs.port}`,
    dynamodbEndpoint: `http://127.0.0.1:${dynamodbPort}`,
    async stop() {
      await fauxqs.stop();
      await new Promise<void>((resolve) => db.close(() => resolve()));
    },
  };
}
