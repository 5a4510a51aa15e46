import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { CreateTopicCommand } from "@aws-sdk/client-sns";
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBClient as RawDynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { PipelineClients } from "../shared/clients.js";
import type { PipelineConfig, ProviderConfig } from "../shared/config.js";
import { TABLE_INDEXES, wiring, type QueueId } from "../shared/wiring.js";

export interface LocalResources {
  buckets: Record<keyof typeof wiring.buckets, string>;
  queues: Record<QueueId, { url: string; arn: string; dlqUrl: string; dlqArn: string }>;
  table: string;
  topicArn: string;
}

export interface LocalQueueSettings {
  /** Local runs retry sooner than Lambda would: seconds before an unacknowledged message is seen again. */
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
}

/** Creates (idempotently) every resource of the wiring definition in the emulators. */
export async function createResources(
  clients: PipelineClients,
  dynamo: DynamoDBClient,
  queueSettings: LocalQueueSettings,
): Promise<LocalResources> {
  for (const bucket of Object.values(wiring.buckets)) {
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket.name }));
  }
  const queues = {} as LocalResources["queues"];
  for (const [id, spec] of Object.entries(wiring.queues) as Array<[QueueId, (typeof wiring.queues)[QueueId]]>) {
    const dlq = await createQueue(clients, spec.deadLetterQueueName, { MessageRetentionPeriod: "1209600" });
    const queue = await createQueue(clients, spec.name, {
      VisibilityTimeout: String(queueSettings.visibilityTimeoutSeconds),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: String(queueSettings.maxReceiveCount) }),
    });
    queues[id] = { url: queue.url, arn: queue.arn, dlqUrl: dlq.url, dlqArn: dlq.arn };
  }
  const topic = await clients.sns.send(new CreateTopicCommand({ Name: wiring.topic.name }));
  await createTable(dynamo);
  return {
    buckets: { input: wiring.buckets.input.name, work: wiring.buckets.work.name, output: wiring.buckets.output.name },
    queues,
    table: wiring.table.name,
    topicArn: topic.TopicArn!,
  };
}

async function createQueue(clients: PipelineClients, name: string, attributes: Record<string, string>) {
  const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const attrs = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
  return { url: QueueUrl!, arn: attrs.Attributes!.QueueArn! };
}

async function createTable(dynamo: DynamoDBClient): Promise<void> {
  const { table } = wiring;
  try {
    await dynamo.send(new DescribeTableCommand({ TableName: table.name }));
    // Kept on disk from an earlier run. dynalite cannot add an index to it: a table from before an index
    // existed lacks it (the orphan sweep says so); remove the data folder to have it created anew.
    return;
  } catch (error) {
    if ((error as Error).name !== "ResourceNotFoundException") throw error;
  }
  await dynamo.send(
    new CreateTableCommand({
      TableName: table.name,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: table.partitionKey, AttributeType: "S" },
        { AttributeName: table.sortKey, AttributeType: "S" },
        ...TABLE_INDEXES.flatMap((index) => [
          { AttributeName: index.partitionKey, AttributeType: "S" as const },
          { AttributeName: index.sortKey, AttributeType: "S" as const },
        ]),
      ],
      KeySchema: [
        { AttributeName: table.partitionKey, KeyType: "HASH" },
        { AttributeName: table.sortKey, KeyType: "RANGE" },
      ],
      GlobalSecondaryIndexes: TABLE_INDEXES.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: "HASH" as const },
          { AttributeName: index.sortKey, KeyType: "RANGE" as const },
        ],
        Projection: { ProjectionType: "ALL" as const },
      })),
    }),
  );
}

/** The raw DynamoDB client the table's creation needs (the pipeline uses the document client). */
export function localDynamo(endpoint: string): RawDynamoDBClient {
  return new RawDynamoDBClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
}

/** The handlers' configuration for resources created here: what Lambda reads from its environment. */
export function localConfig(
  resources: LocalResources,
  provider: ProviderConfig,
  defaults: PipelineConfig["defaults"],
): PipelineConfig {
  return {
    inputBucket: resources.buckets.input,
    workBucket: resources.buckets.work,
    outputBucket: resources.buckets.output,
    segmentsQueueUrl: resources.queues.segments.url,
    stitchQueueUrl: resources.queues.stitch.url,
    table: resources.table,
    topicArn: resources.topicArn,
    provider,
    defaults,
    providerMaxInFlight: wiring.provider.maxInFlight,
  };
}
