import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";

/** The AWS clients the pipeline uses, built once by a composition root (Lambda cold start, local stack) and passed in. */
export interface PipelineClients {
  s3: S3Client;
  sqs: SQSClient;
  dynamo: DynamoDBDocumentClient;
  sns: SNSClient;
  events?: EventBridgeClient;
}

export interface Endpoints {
  /** fauxqs: S3, SQS and SNS on one port. */
  aws?: string;
  dynamodb?: string;
  region?: string;
}

const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

/** In Lambda no endpoints are given and the SDK's defaults apply; locally every client points at the emulators. */
export function createClients(endpoints: Endpoints = {}): PipelineClients {
  const region = endpoints.region ?? process.env.AWS_REGION ?? "us-east-1";
  const local = (endpoint?: string) =>
    endpoint ? { endpoint, credentials: LOCAL_CREDENTIALS } : {};
  const dynamo = new DynamoDBClient({ region, ...local(endpoints.dynamodb) });
  return {
    // Path-style because emulators serve buckets under one host.
    s3: new S3Client({ region, ...local(endpoints.aws), forcePathStyle: Boolean(endpoints.aws) }),
    sqs: new SQSClient({ region, ...local(endpoints.aws) }),
    dynamo: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
    sns: new SNSClient({ region, ...local(endpoints.aws) }),
    events: endpoints.aws ? undefined : new EventBridgeClient({ region }),
  };
}
