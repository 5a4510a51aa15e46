import { ScanCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { PipelineContext } from "../shared/pipeline/context.js";
import { failJob } from "../shared/pipeline/finish-job.js";

/**
 * Job records live on disk (dynalite) but queues and objects live in memory
 * (fauxqs), so a job that was running when the local stack stopped can never
 * finish. Say so on its record instead of leaving it RUNNING forever.
 */
export async function recoverInterruptedJobs(ctx: PipelineContext, dynamo: DynamoDBClient): Promise<number> {
  let recovered = 0;
  let startKey: Record<string, import("@aws-sdk/client-dynamodb").AttributeValue> | undefined;
  do {
    const out = await dynamo.send(
      new ScanCommand({
        TableName: ctx.config.table,
        FilterExpression: "sk = :job AND (#s = :chunking OR #s = :running)",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: { ":job": { S: "JOB" }, ":chunking": { S: "CHUNKING" }, ":running": { S: "RUNNING" } },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of out.Items ?? []) {
      const { jobId } = unmarshall(item) as { jobId: string };
      await failJob(ctx, jobId, "the local stack stopped before this job finished; upload the file again", "interrupted");
      recovered++;
    }
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return recovered;
}
