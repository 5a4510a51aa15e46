/**
 * The job store's per-entry maps on a real DynamoDB (dynalite): a record written before a map existed gets it
 * made on first use (DynamoDB refuses a path into a missing map), and the segment request lease keeps one holder.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { startEmulators, type LocalEmulators } from "../../local/emulators.js";
import { createResources, localDynamo } from "../../local/resources.js";
import { createClients, type PipelineClients } from "../../shared/clients.js";
import { JobStore } from "../../shared/adapters/job-store.js";
import { DEFAULT_JOB_OPTIONS } from "../../shared/domain/options/options.js";
import { wiring } from "../../shared/wiring.js";

let emulators: LocalEmulators;
let clients: PipelineClients;
let store: JobStore;

beforeAll(async () => {
  emulators = await startEmulators();
  clients = createClients({ aws: emulators.awsEndpoint, dynamodb: emulators.dynamodbEndpoint });
  await createResources(clients, localDynamo(emulators.dynamodbEndpoint));
  store = new JobStore(clients.dynamo, wiring.table.name);
}, 60_000);

afterAll(async () => {
  await emulators?.stop();
});

/** A RUNNING job's item as a version before the maps wrote it: no releaseClaims, no requestLeases. */
async function oldRecord(jobId: string): Promise<void> {
  const now = new Date().toISOString();
  await clients.dynamo.send(
    new PutCommand({
      TableName: wiring.table.name,
      Item: {
        pk: `JOB#${jobId}`,
        sk: "JOB",
        jobId,
        status: "RUNNING",
        source: { bucket: "in", key: `${jobId}.mp3` },
        options: { ...DEFAULT_JOB_OPTIONS },
        createdAt: now,
        updatedAt: now,
        cutSegments: 4,
      },
    }),
  );
}

describe("JobStore maps on dynalite", () => {
  it("makes a missing map on first use: a release claim and a request lease on a record from before them", async () => {
    // Prepare
    await oldRecord("old-1");

    // Act
    const claimed = await store.claimRelease("old-1", "cut-4", [0, 4]);
    const leased = await store.claimSegmentRequest("old-1", 0, "message-1", Date.now(), 60);

    // Assess
    expect(claimed?.releaseClaims).toEqual({ "cut-4": [0, 4] });
    expect(leased).toBe(true);
    expect((await store.get("old-1"))?.requestLeases?.["0"]?.holder).toBe("message-1");
  });

  it("keeps a segment's request lease for its holder: another message is refused until it runs out", async () => {
    // Prepare
    await oldRecord("old-2");
    const now = Date.now();

    // Act
    const first = await store.claimSegmentRequest("old-2", 3, "message-1", now, 60);
    const copy = await store.claimSegmentRequest("old-2", 3, "message-2", now + 1_000, 60);
    const again = await store.claimSegmentRequest("old-2", 3, "message-1", now + 2_000, 60);
    const otherSegment = await store.claimSegmentRequest("old-2", 2, "message-2", now + 2_000, 60);
    const afterLease = await store.claimSegmentRequest("old-2", 3, "message-2", now + 63_000, 60);

    // Assess
    expect([first, copy, again, otherSegment, afterLease]).toEqual([true, false, true, true, true]);
    expect(await store.claimSegmentRequest("no-such-job", 0, "message-1", now, 60)).toBe(false);
  });

  it("drops a segment's request lease when the segment is counted done, on a record from before the map too", async () => {
    // Prepare
    await oldRecord("old-3");
    await oldRecord("old-4");
    await store.claimSegmentRequest("old-3", 1, "message-1", Date.now(), 60);
    await store.claimSegmentRequest("old-3", 2, "message-2", Date.now(), 60);

    // Act
    const done = await store.addDoneSegment("old-3", 1, new Date());
    const doneOnOld = await store.addDoneSegment("old-4", 0, new Date());

    // Assess
    expect(done?.doneSegments).toEqual(new Set([1]));
    expect(Object.keys(done?.requestLeases ?? {})).toEqual(["2"]);
    expect(doneOnOld?.doneSegments).toEqual(new Set([0]));
    expect(await store.addDoneSegment("no-such-job", 0, new Date())).toBeUndefined();
  });
});
