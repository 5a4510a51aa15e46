/**
 * The local stack's resources on real emulators: the table is ready for use when createResources returns. A
 * DynamoDB table answers "not found" while CREATING (dynalite flips the status on a timer after its reply, so
 * a scan from another process could come in first, as one did in CI): here the status flips after 300 ms.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRequire } from "node:module";
import type { AddressInfo, Server } from "node:net";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { startEmulators, type LocalEmulators } from "../../local/emulators.js";
import { createResources, localDynamo } from "../../local/resources.js";
import { createClients } from "../../shared/clients.js";
import { wiring } from "../../shared/wiring.js";

// dynalite ships CommonJS without types.
const dynalite = createRequire(import.meta.url)("dynalite") as (options: Record<string, unknown>) => Server;

let emulators: LocalEmulators;
let slowDb: Server;
let slowEndpoint: string;

beforeAll(async () => {
  emulators = await startEmulators();
  slowDb = dynalite({ createTableMs: 300 });
  await new Promise<void>((resolve) => slowDb.listen(0, "127.0.0.1", () => resolve()));
  slowEndpoint = `http://127.0.0.1:${(slowDb.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await emulators?.stop();
  await new Promise<void>((resolve) => (slowDb ? slowDb.close(() => resolve()) : resolve()));
});

describe("createResources", () => {
  it("returns once the table can be read, even when the database takes a while to create it", async () => {
    const raw = localDynamo(slowEndpoint);
    await createResources(createClients({ aws: emulators.awsEndpoint, dynamodb: slowEndpoint }), raw);
    const out = await raw.send(new ScanCommand({ TableName: wiring.table.name, Limit: 1 }));
    expect(out.Count).toBe(0);
  });
});
