import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { CreateTopicCommand } from "@aws-sdk/client-sns";
import { CreateTableCommand, DescribeTableCommand, waitUntilTableExists, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBClient as RawDynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { PipelineClients } from "../shared/clients.js";
import { configFromEnv, type PipelineConfig, type ProviderConfig } from "../shared/config.js";
import { ENV, TABLE_INDEXES, wiring, type QueueId } from "../shared/wiring.js";
import { localTopology, type LocalOverrides } from "./topology.js";

export interface QueueRef {
  url: string;
  arn: string;
}

export interface LocalResources {
  buckets: Record<keyof typeof wiring.buckets, string>;
  queues: Record<QueueId, { url: string; arn: string; dlqUrl: string; dlqArn: string }>;
  /** Every queue by name: the pipeline's, their DLQs and the async-failure queues (Lambda's on-failure destinations). */
  queuesByName: Record<string, QueueRef>;
  table: string;
  topicArn: string;
}

/** Creates (idempotently) every resource of the wiring definition in the emulators, with its numbers but for `overrides`. */
export async function createResources(
  clients: PipelineClients,
  dynamo: DynamoDBClient,
  overrides: LocalOverrides = {},
): Promise<LocalResources> {
  for (const bucket of Object.values(wiring.buckets)) {
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket.name }));
  }
  const byName: Record<string, QueueRef> = {};
  // Dead-letter queues come first in the topology: a redrive policy names one by its ARN.
  for (const queue of localTopology(overrides).queues) {
    const attributes: Record<string, string> = { VisibilityTimeout: String(queue.visibilityTimeoutSeconds) };
    if (queue.retentionSeconds !== undefined) attributes.MessageRetentionPeriod = String(queue.retentionSeconds);
    if (queue.redrive) {
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: byName[queue.redrive.deadLetterQueueName].arn,
        maxReceiveCount: String(queue.redrive.maxReceiveCount),
      });
    }
    byName[queue.name] = await createQueue(clients, queue.name, attributes);
  }
  const queues = {} as LocalResources["queues"];
  for (const [id, spec] of Object.entries(wiring.queues) as Array<[QueueId, (typeof wiring.queues)[QueueId]]>) {
    const main = byName[spec.name];
    const dlq = byName[spec.deadLetterQueueName];
    queues[id] = { url: main.url, arn: main.arn, dlqUrl: dlq.url, dlqArn: dlq.arn };
  }
  const topic = await clients.sns.send(new CreateTopicCommand({ Name: wiring.topic.name }));
  await createTable(dynamo);
  return {
    buckets: { input: wiring.buckets.input.name, work: wiring.buckets.work.name, output: wiring.buckets.output.name },
    queues,
    queuesByName: byName,
    table: wiring.table.name,
    topicArn: topic.TopicArn!,
  };
}

async function createQueue(clients: PipelineClients, name: string, attributes: Record<string, string>): Promise<QueueRef> {
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
  // dynalite answers "not found" to a table still CREATING, even with createTableMs 0 (the status flips on a
  // timer after the reply): a first scan from another process could come in before it does.
  await waitUntilTableExists({ client: dynamo, minDelay: 0.05, maxDelay: 0.5, maxWaitTime: 30 }, { TableName: table.name });
}

/** The raw DynamoDB client the table's creation needs (the pipeline uses the document client). */
export function localDynamo(endpoint: string): RawDynamoDBClient {
  return new RawDynamoDBClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
}

/**
 * The environment the CDK stack would give a function (infra/stack.ts), for the resources created here: the
 * local stack reads its configuration from it through the same path as a Lambda (shared/config.ts).
 * Variables left out take their defaults there, as they would in a Lambda without them.
 */
export function localEnvironment(
  resources: LocalResources,
  settings: {
    provider: { baseUrl: string; apiKey: string; model?: string };
    chunkSeconds?: number;
    overlapSeconds?: number;
    providerMaxInFlight?: number;
    maxRunningJobs?: number;
  },
): Record<string, string> {
  const env: Record<string, string> = {
    [ENV.inputBucket]: resources.buckets.input,
    [ENV.workBucket]: resources.buckets.work,
    [ENV.outputBucket]: resources.buckets.output,
    [ENV.segmentsQueueUrl]: resources.queues.segments.url,
    [ENV.stitchQueueUrl]: resources.queues.stitch.url,
    [ENV.table]: resources.table,
    [ENV.topicArn]: resources.topicArn,
    [ENV.baseUrl]: settings.provider.baseUrl,
    // Locally the key is given, as STT_API_KEY would give it; in AWS a function gets the secret's ARN instead.
    [ENV.apiKey]: settings.provider.apiKey,
  };
  if (settings.provider.model) env[ENV.model] = settings.provider.model;
  if (settings.chunkSeconds !== undefined) env[ENV.chunkSeconds] = String(settings.chunkSeconds);
  if (settings.overlapSeconds !== undefined) env[ENV.overlapSeconds] = String(settings.overlapSeconds);
  if (settings.providerMaxInFlight !== undefined) env[ENV.providerMaxInFlight] = String(settings.providerMaxInFlight);
  if (settings.maxRunningJobs !== undefined) env[ENV.maxRunningJobs] = String(settings.maxRunningJobs);
  return env;
}

/**
 * A configuration for resources created here with provider settings and segment defaults of the caller's
 * own (benchmarks that time one step): the environment path above, then those two replaced as given.
 */
export function localConfig(
  resources: LocalResources,
  provider: ProviderConfig,
  defaults: PipelineConfig["defaults"],
): PipelineConfig {
  const config = configFromEnv(localEnvironment(resources, { provider: { baseUrl: provider.baseUrl, apiKey: "" } }), provider.apiKey);
  return { ...config, provider, defaults };
}
