/**
 * The deployable stack, asserted on its synthesized template. One stack is
 * synthesized (with real esbuild bundling and the ffmpeg layer) and shared by
 * every test; variants that only change settings synthesize without bundling
 * or asset staging, so the file stays well under a minute.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { beforeAll, describe, expect, it } from "vitest";
import { App, Stack, type CfnElement } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import type { IConstruct } from "constructs";
import { AwsSolutionsChecks } from "cdk-nag";
import {
  ENV,
  indexesOf,
  TABLE_INDEXES,
  wiring,
  type BucketId,
  type FunctionId,
  type FunctionSpec,
  type QueueId,
} from "../../shared/wiring.js";
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { PROVIDER_SLOTS_KEY, ProviderSlots } from "../../shared/adapters/provider-slots.js";
import { EVENT_BUS_NAME, EXISTENCE_CHECKS, SpeechToTextStack, VISIBILITY_FACTOR } from "../../infra/stack.js";
import { recorded } from "../../infra/nag-suppressions.js";
import { TABLE_ACTIONS } from "../../infra/constructs/pipeline-function.js";
import { encodeFlacPcm } from "../../shared/audio/flac-encoder.js";
import { FLAC_WORKER, type EncodeRequest, type WorkerMessage } from "../../shared/audio/flac-pool.js";
import { DEFAULT_SETTINGS, resolveSettings, settingsFromContext } from "../../infra/settings.js";

const FUNCTION_IDS = Object.keys(wiring.functions) as FunctionId[];
const SPECS = wiring.functions as Record<FunctionId, FunctionSpec>;
const QUEUE_IDS = Object.keys(wiring.queues) as QueueId[];
const BUCKET_IDS = Object.keys(wiring.buckets) as BucketId[];

/** Settings, apps and stacks that only change props: no bundling, no copying the 150 MB layer. */
function quickStack(settings: ConstructorParameters<typeof SpeechToTextStack>[2] = {}): SpeechToTextStack {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [], "aws:cdk:disable-asset-staging": true } });
  return new SpeechToTextStack(app, "Quick", settings);
}

let app: App;
let stack: SpeechToTextStack;
let template: Template;
let assemblyDir: string;

const ref = (construct: IConstruct) => ({ Ref: logicalId(construct) });
const arn = (construct: IConstruct) => ({ "Fn::GetAtt": [logicalId(construct), "Arn"] });
const objectsOf = (construct: IConstruct) => ({ "Fn::Join": ["", [arn(construct), "/*"]] });

function logicalId(construct: IConstruct): string {
  const child = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).getLogicalId(child);
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** Every statement attached to a function's execution role. */
function roleStatements(functionId: FunctionId): Statement[] {
  const roleId = logicalId(stack.functions[functionId].role);
  const policies = Object.values(template.findResources("AWS::IAM::Policy")) as Array<{
    Properties: { Roles: Array<{ Ref: string }>; PolicyDocument: { Statement: Statement[] } };
  }>;
  return policies
    .filter((p) => p.Properties.Roles.some((r) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

/** The resources a role may use `action` on, as template JSON. */
function resourcesFor(functionId: FunctionId, action: string): string[] {
  return roleStatements(functionId)
    .filter((s) => actionsOf(s).includes(action))
    .flatMap((s) => resourcesOf(s).map((r) => JSON.stringify(r)))
    .sort();
}

function functionProps(functionId: FunctionId): Record<string, any> {
  return template.toJSON().Resources[logicalId(stack.functions[functionId].fn)].Properties;
}

beforeAll(() => {
  // Prepare: the stack as `cdk synth` builds it (handlers bundled by esbuild, the ffmpeg layer staged
  // from node_modules), with an alarm e-mail. Asset staging is off only so the 150 MB layer is not
  // copied into a temporary cloud assembly on every run; bundling still writes to the assembly.
  app = new App({ context: { "aws:cdk:disable-asset-staging": true } });
  stack = new SpeechToTextStack(app, "SpeechToText", { settings: { alarmEmail: "ops@example.com" } });
  // Act: synthesize once.
  template = Template.fromStack(stack);
  assemblyDir = app.outdir;
}, 120_000);

describe("buckets", () => {
  it("encrypts the input, work and output buckets with the app key and logs their access", () => {
    for (const id of BUCKET_IDS) {
      template.hasResource("AWS::S3::Bucket", {
        Properties: {
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              {
                BucketKeyEnabled: true,
                ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: arn(stack.key) },
              },
            ],
          },
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] },
          LoggingConfiguration: {
            DestinationBucketName: ref(stack.accessLogsBucket),
            LogFilePrefix: `${wiring.buckets[id].name}/`,
          },
        },
        UpdateReplacePolicy: "Retain",
        DeletionPolicy: "Retain",
      });
      expect(template.toJSON().Resources[logicalId(stack.buckets[id])]).toBeDefined();
    }
  });

  it("keeps access logs in an SSE-S3 bucket (S3 log delivery cannot write SSE-KMS) with public access blocked", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] },
      PublicAccessBlockConfiguration: Match.objectLike({ BlockPublicAcls: true, RestrictPublicBuckets: true }),
    });
    template.resourceCountIs("AWS::S3::Bucket", BUCKET_IDS.length + 1);
  });

  it("denies non-TLS requests on every bucket", () => {
    for (const bucket of [...Object.values(stack.buckets), stack.accessLogsBucket]) {
      template.hasResourceProperties("AWS::S3::BucketPolicy", {
        Bucket: ref(bucket),
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: "Deny",
              Action: "s3:*",
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            }),
          ]),
        },
      });
    }
  });

  it("expires work files after the wiring's days and nothing in the input or output bucket", () => {
    const rules = (id: BucketId) =>
      template.toJSON().Resources[logicalId(stack.buckets[id])].Properties.LifecycleConfiguration.Rules as Array<Record<string, unknown>>;
    expect(rules("work")).toContainEqual(expect.objectContaining({ ExpirationInDays: wiring.buckets.work.expireDays, Status: "Enabled" }));
    expect(rules("input").some((r) => "ExpirationInDays" in r)).toBe(false);
    expect(rules("output").some((r) => "ExpirationInDays" in r)).toBe(false);
  });

  it("triggers the chunker on every ObjectCreated in the input bucket (it rejects non-audio itself)", () => {
    const notifications = template.findResources("Custom::S3BucketNotifications");
    const configs = Object.values(notifications).flatMap(
      (n: any) => n.Properties.NotificationConfiguration.LambdaFunctionConfigurations as any[],
    );
    const chunker = arn(stack.functions.chunker.fn);
    expect(configs).toHaveLength(1);
    expect(configs[0].Events).toEqual(["s3:ObjectCreated:*"]);
    expect(configs[0].LambdaFunctionArn).toEqual(chunker);
    expect(configs[0].Filter).toBeUndefined();
    expect(Object.values(notifications).map((n: any) => n.Properties.BucketName)).toEqual([ref(stack.buckets.input)]);
    template.hasResourceProperties("AWS::Lambda::Permission", {
      Action: "lambda:InvokeFunction",
      Principal: "s3.amazonaws.com",
      FunctionName: chunker,
      SourceArn: arn(stack.buckets.input),
      SourceAccount: { Ref: "AWS::AccountId" },
    });
  });
});

describe("queues", () => {
  it("gives each queue its wiring's visibility timeout, at least 6x its consumer's timeout, and a DLQ after maxReceiveCount", () => {
    for (const id of QUEUE_IDS) {
      const q = stack.queues[id];
      const spec = wiring.queues[id];
      const consumer = FUNCTION_IDS.find((f) => SPECS[f].trigger.kind === "sqs" && (SPECS[f].trigger as { queue: QueueId }).queue === id)!;
      const props = template.toJSON().Resources[logicalId(q.queue)].Properties;
      expect(props.VisibilityTimeout).toBe(spec.visibilityTimeoutSeconds);
      expect(props.VisibilityTimeout).toBeGreaterThanOrEqual(VISIBILITY_FACTOR * functionProps(consumer).Timeout);
      expect(props.RedrivePolicy).toEqual({ deadLetterTargetArn: arn(q.deadLetterQueue), maxReceiveCount: spec.maxReceiveCount });
    }
  });

  it("gives the dead-letter queues 14 days and a visibility timeout 6x the dead-letter function's", () => {
    for (const id of QUEUE_IDS) {
      const props = template.toJSON().Resources[logicalId(stack.queues[id].deadLetterQueue)].Properties;
      expect(props.MessageRetentionPeriod).toBe(14 * 86400);
      expect(props.VisibilityTimeout).toBeGreaterThanOrEqual(VISIBILITY_FACTOR * functionProps("deadLetter").Timeout);
    }
  });

  it("encrypts every queue with the app key and denies non-TLS access", () => {
    const queues = template.findResources("AWS::SQS::Queue");
    expect(Object.keys(queues)).toHaveLength(QUEUE_IDS.length * 2 + 1);
    for (const [id, q] of Object.entries(queues) as Array<[string, any]>) {
      expect(q.Properties.KmsMasterKeyId).toEqual(arn(stack.key));
      template.hasResourceProperties("AWS::SQS::QueuePolicy", {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
          ]),
        },
      });
    }
  });
});

describe("functions", () => {
  it.each(FUNCTION_IDS)("%s runs Node 22 on x86_64 with the wiring's sizing, tracing and JSON logs", (id) => {
    const spec = SPECS[id];
    template.hasResourceProperties("AWS::Lambda::Function", {
      FunctionName: Match.absent(),
      Runtime: "nodejs22.x",
      Architectures: ["x86_64"],
      Handler: "index.handler",
      MemorySize: spec.memoryMb,
      Timeout: spec.timeoutSeconds,
      EphemeralStorage: { Size: spec.ephemeralStorageMb },
      TracingConfig: { Mode: "Active" },
      LoggingConfig: { LogFormat: "JSON", LogGroup: ref(stack.functions[id].logGroup), ApplicationLogLevel: "INFO" },
      Role: arn(stack.functions[id].role),
    });
    expect(functionProps(id).MemorySize).toBe(spec.memoryMb);
  });

  it.each(FUNCTION_IDS)("%s gets every resource name and setting through the wiring's ENV names", (id) => {
    const env = functionProps(id).Environment.Variables as Record<string, unknown>;
    expect(env).toMatchObject({
      [ENV.inputBucket]: ref(stack.buckets.input),
      [ENV.workBucket]: ref(stack.buckets.work),
      [ENV.outputBucket]: ref(stack.buckets.output),
      [ENV.segmentsQueueUrl]: ref(stack.queues.segments.queue),
      [ENV.stitchQueueUrl]: ref(stack.queues.stitch.queue),
      [ENV.table]: ref(stack.table),
      [ENV.topicArn]: ref(stack.topic),
      [ENV.eventBusName]: EVENT_BUS_NAME,
      [ENV.baseUrl]: DEFAULT_SETTINGS.providerBaseUrl,
      [ENV.model]: DEFAULT_SETTINGS.model,
      [ENV.chunkSeconds]: String(DEFAULT_SETTINGS.chunkSeconds),
      [ENV.overlapSeconds]: String(DEFAULT_SETTINGS.overlapSeconds),
      [ENV.retentionDays]: String(DEFAULT_SETTINGS.retentionDays),
      [ENV.providerTimeoutMs]: String(DEFAULT_SETTINGS.providerTimeoutMs),
      [ENV.providerMaxAttempts]: String(DEFAULT_SETTINGS.providerMaxAttempts),
    });
  });

  it.each(FUNCTION_IDS)("%s has ffmpeg (layer + paths) exactly when the wiring says it needs it", (id) => {
    const props = functionProps(id);
    const env = props.Environment.Variables as Record<string, unknown>;
    if (SPECS[id].needsFfmpeg) {
      expect(env[ENV.ffmpegPath]).toBe("/opt/bin/ffmpeg");
      expect(env[ENV.ffprobePath]).toBe("/opt/bin/ffprobe");
      expect(props.Layers).toEqual([ref(stack.ffmpeg!.layer)]);
    } else {
      expect(env[ENV.ffmpegPath]).toBeUndefined();
      expect(props.Layers).toBeUndefined();
    }
  });

  it.each(FUNCTION_IDS)("%s gets the secret's ARN, never the API key, and only if it calls the provider", (id) => {
    const env = functionProps(id).Environment.Variables as Record<string, unknown>;
    expect(env[ENV.apiKey]).toBeUndefined();
    if (SPECS[id].access.providerSecret) expect(env[ENV.apiKeySecretArn]).toEqual(ref(stack.providerSecret));
    else expect(env[ENV.apiKeySecretArn]).toBeUndefined();
  });

  it.each(FUNCTION_IDS)("%s gets the deployment's provider cap (slots for callers, segment planning for the chunker)", (id) => {
    const env = functionProps(id).Environment.Variables as Record<string, unknown>;
    expect(env[ENV.providerMaxInFlight]).toBe(String(DEFAULT_SETTINGS.providerMaxInFlight));
  });

  it.each(FUNCTION_IDS)("%s gets the longest recording accepted only where jobs start (the chunker)", (id) => {
    const env = functionProps(id).Environment.Variables as Record<string, unknown>;
    const startsJobs = SPECS[id].trigger.kind === "s3";
    expect(env[ENV.maxRecordingHours]).toBe(startsJobs ? String(DEFAULT_SETTINGS.maxRecordingHours) : undefined);
  });

  it.each(FUNCTION_IDS)("%s gets the running-jobs cap if it has table access (any of them may end a job and start a queued one)", (id) => {
    const env = functionProps(id).Environment.Variables as Record<string, unknown>;
    const hasTable = SPECS[id].access.table !== "none";
    expect(env[ENV.maxRunningJobs]).toBe(hasTable ? String(DEFAULT_SETTINGS.maxRunningJobs) : undefined);
  });

  it("gives the stitcher no provider key (speakers are settled before it runs), and ffmpeg for redacted audio", () => {
    const props = functionProps("stitcher");
    const env = props.Environment.Variables as Record<string, unknown>;
    expect(env[ENV.apiKeySecretArn]).toBeUndefined();
    expect(resourcesFor("stitcher", "secretsmanager:GetSecretValue")).toEqual([]);
    // redact=pii silences the source's audio (pipeline/redact-outputs.ts): the layer, and the recording's bucket.
    expect(props.Layers).toEqual([ref(stack.ffmpeg!.layer)]);
    expect(env[ENV.redactionMandatory]).toBe("false");
    // The transcriber, which now settles speakers, has all three.
    const transcriber = functionProps("transcriber");
    expect(transcriber.Layers).toEqual([ref(stack.ffmpeg!.layer)]);
    expect(transcriber.Environment.Variables[ENV.apiKeySecretArn]).toEqual(ref(stack.providerSecret));
    expect(transcriber.Environment.Variables[ENV.providerMaxInFlight]).toBe(String(DEFAULT_SETTINGS.providerMaxInFlight));
    expect(transcriber.MemorySize).toBe(1024);
  });

  it("consumes the segment and stitch queues with partial batch responses and a concurrency cap", () => {
    for (const id of ["transcriber", "stitcher"] as const) {
      const trigger = wiring.functions[id].trigger;
      template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
        FunctionName: ref(stack.functions[id].fn),
        EventSourceArn: arn(stack.queues[trigger.queue].queue),
        BatchSize: trigger.batchSize,
        FunctionResponseTypes: ["ReportBatchItemFailures"],
        ScalingConfig: { MaximumConcurrency: id === "transcriber" ? DEFAULT_SETTINGS.providerMaxInFlight : trigger.maxConcurrency },
      });
    }
    // By default the deployment's cap is the wiring's (32), and the transcriber runs as many invocations as there are slots.
    expect(DEFAULT_SETTINGS.providerMaxInFlight).toBe(wiring.provider.maxInFlight);
    expect(DEFAULT_SETTINGS.providerMaxInFlight).toBe(32);
    expect(wiring.functions.transcriber.trigger.maxConcurrency).toBe(wiring.provider.maxInFlight);
  });

  it("wires both dead-letter queues and the chunker's failures to the dead-letter function", () => {
    const sources = [...wiring.functions.deadLetter.trigger.queues.map((q) => stack.queues[q].deadLetterQueue), stack.chunkerFailures];
    for (const source of sources) {
      template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
        FunctionName: ref(stack.functions.deadLetter.fn),
        EventSourceArn: arn(source),
        BatchSize: wiring.functions.deadLetter.trigger.batchSize,
        FunctionResponseTypes: ["ReportBatchItemFailures"],
      });
    }
    template.resourceCountIs("AWS::Lambda::EventSourceMapping", 2 + sources.length);
  });

  it("sends the chunker's failed S3 events to a queue instead of dropping them", () => {
    template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      FunctionName: ref(stack.functions.chunker.fn),
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: arn(stack.chunkerFailures) } },
    });
  });

  it("keeps each function's logs in its own group for the configured days", () => {
    for (const id of FUNCTION_IDS) {
      const group = template.toJSON().Resources[logicalId(stack.functions[id].logGroup)];
      expect(group.Properties.RetentionInDays).toBe(DEFAULT_SETTINGS.logRetentionDays);
    }
  });

  it("bundles each handler as ESM with a createRequire banner and without the ffmpeg installers", () => {
    const bundles = readdirSync(assemblyDir)
      .map((d) => join(assemblyDir, d, "index.mjs"))
      .filter((f) => existsSync(f));
    expect(bundles).toHaveLength(FUNCTION_IDS.length);
    for (const file of bundles) {
      const code = readFileSync(file, "utf8");
      expect(code.startsWith("import { createRequire as __sttCreateRequire } from 'node:module';")).toBe(true);
      // The installers stay external: at most a require() of the package name, never its code.
      expect(code).not.toContain("johnvansickle");
    }
  });

  it("bundles the chunker's FLAC encoder worker beside its handler, as a worker that runs on its own", async () => {
    // Prepare: each function's bundle is the asset directory its Code points at.
    const bundleDir = (id: FunctionId) =>
      join(assemblyDir, `asset.${String(functionProps(id).Code.S3Key).replace(/\.zip$/, "")}`);
    const chunker = bundleDir("chunker");
    const pcm = Buffer.alloc(2 * 9000);
    for (let i = 0; i < 9000; i++) pcm.writeInt16LE(Math.round(9000 * Math.sin(i / 7) + ((i * 37) % 23)), 2 * i);

    // Act: start the bundled worker as the pool does in Lambda, and encode with it.
    const worker = new Worker(join(chunker, FLAC_WORKER.bundle));
    const flac = await new Promise<Buffer>((resolve, reject) => {
      worker.on("error", reject);
      worker.on("message", (message: WorkerMessage) => {
        if (message.kind === "ready") {
          const request: EncodeRequest = { id: 1, pcm: pcm.buffer as ArrayBuffer, byteOffset: pcm.byteOffset, byteLength: pcm.byteLength };
          worker.postMessage(request);
        } else if (message.kind === "encoded") resolve(Buffer.from(message.flac, message.byteOffset, message.byteLength));
        else reject(new Error(message.error));
      });
    });
    await worker.terminate();

    // Assess
    expect(readFileSync(join(chunker, "index.mjs"), "utf8")).toContain(FLAC_WORKER.bundle);
    expect(flac.equals(encodeFlacPcm(pcm))).toBe(true);
    for (const id of FUNCTION_IDS.filter((f) => f !== "chunker")) expect(existsSync(join(bundleDir(id), FLAC_WORKER.bundle))).toBe(false);
  });
});

describe("ffmpeg layer", () => {
  it("is built for the one architecture and runtime, described with the locked package versions", () => {
    const lock = JSON.parse(readFileSync(join(process.cwd(), "package-lock.json"), "utf8"));
    const ffmpegVersion = lock.packages["node_modules/@ffmpeg-installer/linux-x64"].version as string;
    const ffprobeVersion = lock.packages["node_modules/@ffprobe-installer/linux-x64"].version as string;
    template.hasResourceProperties("AWS::Lambda::LayerVersion", {
      CompatibleArchitectures: ["x86_64"],
      CompatibleRuntimes: ["nodejs22.x"],
      Description: Match.stringLikeRegexp(
        `@ffmpeg-installer/linux-x64@${ffmpegVersion}.*@ffprobe-installer/linux-x64@${ffprobeVersion}`,
      ),
    });
  });

  it("ships bin/ffmpeg and bin/ffprobe executable by any user (Lambda does not run as the files' owner)", () => {
    for (const name of ["ffmpeg", "ffprobe"]) {
      const file = join(stack.ffmpeg!.assetDir, "bin", name);
      const source = join(process.cwd(), "node_modules", `@${name}-installer`, "linux-x64", name);
      expect(statSync(file).size).toBe(statSync(source).size);
      expect(statSync(file).mode & 0o005).toBe(0o005);
    }
  });
});

describe("job table", () => {
  it("is on-demand, point-in-time recoverable, KMS-encrypted, with TTL and the wiring's indexes (bySource, byHeartbeat, byCreated)", () => {
    const t = wiring.table;
    expect(TABLE_INDEXES.map((index) => [index.name, index.partitionKey, index.sortKey])).toEqual([
      ["bySource", "gsi1pk", "gsi1sk"],
      ["byHeartbeat", "gsi2pk", "gsi2sk"],
      ["byCreated", "gsi3pk", "gsi3sk"],
    ]);
    template.hasResource("AWS::DynamoDB::Table", {
      Properties: {
        KeySchema: [
          { AttributeName: t.partitionKey, KeyType: "HASH" },
          { AttributeName: t.sortKey, KeyType: "RANGE" },
        ],
        BillingMode: "PAY_PER_REQUEST",
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: "KMS", KMSMasterKeyId: arn(stack.key) },
        TimeToLiveSpecification: { AttributeName: t.ttlAttribute, Enabled: true },
        GlobalSecondaryIndexes: TABLE_INDEXES.map((index) => ({
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: "HASH" },
            { AttributeName: index.sortKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        })),
      },
      DeletionPolicy: "Retain",
    });
  });
});

describe("notifications, key and secret", () => {
  it("encrypts both topics with the app key and denies non-TLS publishing", () => {
    for (const topic of [stack.topic, stack.alarmTopic]) {
      template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: arn(stack.key) });
      expect(template.toJSON().Resources[logicalId(topic)].Properties.KmsMasterKeyId).toEqual(arn(stack.key));
      template.hasResourceProperties("AWS::SNS::TopicPolicy", {
        Topics: [ref(topic)],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
          ]),
        },
      });
    }
  });

  it("subscribes the alarm e-mail to the alarm topic, not to the job topic", () => {
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "ops@example.com",
      TopicArn: ref(stack.alarmTopic),
    });
    template.resourceCountIs("AWS::SNS::Subscription", 1);
  });

  it("rotates the one customer-managed key and lets CloudWatch publish alarms through it", () => {
    template.resourceCountIs("AWS::KMS::Key", 1);
    template.hasResourceProperties("AWS::KMS::Key", {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
          }),
        ]),
      },
    });
  });

  it("keeps the provider key in a KMS-encrypted secret whose value is not in the template", () => {
    template.hasResourceProperties("AWS::SecretsManager::Secret", {
      KmsKeyId: arn(stack.key),
      SecretString: Match.absent(),
    });
  });
});

describe("alarms", () => {
  it("alarms on dead-lettered messages and DLQ depth for each queue, the chunker's failures, and each function's errors", () => {
    const alarms = Object.values(template.findResources("AWS::CloudWatch::Alarm")) as any[];
    expect(alarms).toHaveLength(QUEUE_IDS.length * 2 + 1 + FUNCTION_IDS.length);
    for (const id of QUEUE_IDS) {
      const dlq = { "Fn::GetAtt": [logicalId(stack.queues[id].deadLetterQueue), "QueueName"] };
      const onDlq = alarms.filter((a) => JSON.stringify(a.Properties.Dimensions) === JSON.stringify([{ Name: "QueueName", Value: dlq }]));
      expect(onDlq.map((a) => a.Properties.MetricName).sort()).toEqual(["ApproximateNumberOfMessagesVisible", "NumberOfMessagesReceived"]);
    }
    for (const id of FUNCTION_IDS) {
      template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        MetricName: "Errors",
        Namespace: "AWS/Lambda",
        Dimensions: [{ Name: "FunctionName", Value: ref(stack.functions[id].fn) }],
        Threshold: 1,
      });
    }
  });

  it("sends every alarm to the alarm topic with a runbook in its description", () => {
    const alarms = Object.values(template.findResources("AWS::CloudWatch::Alarm")) as any[];
    for (const a of alarms) {
      expect(a.Properties.AlarmActions).toEqual([ref(stack.alarmTopic)]);
      const description = JSON.stringify(a.Properties.AlarmDescription);
      expect(description).toMatch(/Look:/);
      expect(description).toMatch(/Recover:/);
    }
  });
});

describe("outputs", () => {
  it("exports the bucket names, table name, topic ARN and queue URLs", () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.InputBucketName.Value).toEqual(ref(stack.buckets.input));
    expect(outputs.WorkBucketName.Value).toEqual(ref(stack.buckets.work));
    expect(outputs.OutputBucketName.Value).toEqual(ref(stack.buckets.output));
    expect(outputs.TableName.Value).toEqual(ref(stack.table));
    expect(outputs.TopicArn.Value).toEqual(ref(stack.topic));
    expect(outputs.SegmentsQueueUrl.Value).toEqual(ref(stack.queues.segments.queue));
    expect(outputs.StitchQueueUrl.Value).toEqual(ref(stack.queues.stitch.queue));
    expect(outputs.SegmentsDlqUrl.Value).toEqual(ref(stack.queues.segments.deadLetterQueue));
    expect(outputs.StitchDlqUrl.Value).toEqual(ref(stack.queues.stitch.deadLetterQueue));
    expect(outputs.ProviderSecretArn.Value).toEqual(ref(stack.providerSecret));
  });
});

describe("IAM: each function gets only what its wiring uses", () => {
  const expectedActions = (id: FunctionId): string[] => {
    const { access, trigger } = SPECS[id];
    const actions = new Set<string>(["logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"]);
    if (trigger.kind === "sqs" || trigger.kind === "sqsDeadLetter") {
      for (const a of ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]) actions.add(a);
    }
    if (access.read.length) actions.add("s3:GetObject");
    if (access.write.length) actions.add("s3:PutObject");
    if (EXISTENCE_CHECKS[id]?.length || access.list?.length) actions.add("s3:ListBucket");
    if (access.send.length || trigger.kind === "s3") actions.add("sqs:SendMessage");
    if (access.table !== "none") for (const a of TABLE_ACTIONS[access.table]) actions.add(a);
    // Queued jobs leave the queue by DeleteItem, on the queue's partition only (see the test below).
    if (access.table === "readWrite") actions.add("dynamodb:DeleteItem");
    if (access.publish) {
      actions.add("sns:Publish");
      actions.add("events:PutEvents");
    }
    if (access.providerSecret) actions.add("secretsmanager:GetSecretValue");
    actions.add("kms:Decrypt");
    if (access.write.length || access.send.length || access.publish || access.table === "readWrite") {
      actions.add("kms:Encrypt");
      actions.add("kms:GenerateDataKey");
    }
    return [...actions].sort();
  };

  it.each(FUNCTION_IDS)("%s: exactly the expected actions, nothing broader", (id) => {
    const actions = [...new Set(roleStatements(id).flatMap(actionsOf))].sort();
    expect(actions).toEqual(expectedActions(id));
    expect(actions.some((a) => a.includes("*"))).toBe(false);
    expect(roleStatements(id).every((s) => s.Effect === "Allow")).toBe(true);
  });

  it.each(FUNCTION_IDS)("%s: Resource * only for X-Ray, which has no resource-level permissions", (id) => {
    for (const s of roleStatements(id)) {
      if (resourcesOf(s).includes("*")) expect(actionsOf(s).sort()).toEqual(["xray:PutTelemetryRecords", "xray:PutTraceSegments"]);
    }
  });

  it.each(FUNCTION_IDS)("%s: S3 object rights only on the buckets its wiring reads and writes", (id) => {
    const { read, write } = SPECS[id].access;
    expect(resourcesFor(id, "s3:GetObject")).toEqual(read.map((b) => JSON.stringify(objectsOf(stack.buckets[b]))).sort());
    expect(resourcesFor(id, "s3:PutObject")).toEqual(write.map((b) => JSON.stringify(objectsOf(stack.buckets[b]))).sort());
    expect(resourcesFor(id, "s3:ListBucket")).toEqual(
      [...(EXISTENCE_CHECKS[id] ?? []), ...(SPECS[id].access.list ?? []).map((l) => l.bucket)].map((b) => JSON.stringify(arn(stack.buckets[b]))).sort(),
    );
  });

  it.each(FUNCTION_IDS)("%s: sends only to its wiring's queues (the chunker also to its failure queue)", (id) => {
    const queues = SPECS[id].access.send.map((q) => arn(stack.queues[q].queue));
    if (SPECS[id].trigger.kind === "s3") queues.push(arn(stack.chunkerFailures));
    expect(resourcesFor(id, "sqs:SendMessage")).toEqual(queues.map((q) => JSON.stringify(q)).sort());
  });

  it.each(FUNCTION_IDS)("%s: consumes only the queues that trigger it", (id) => {
    const trigger = SPECS[id].trigger;
    const consumed =
      trigger.kind === "sqs"
        ? [arn(stack.queues[trigger.queue].queue)]
        : trigger.kind === "sqsDeadLetter"
          ? [...trigger.queues.map((q) => arn(stack.queues[q].deadLetterQueue)), arn(stack.chunkerFailures)]
          : [];
    expect(resourcesFor(id, "sqs:ReceiveMessage")).toEqual(consumed.map((q) => JSON.stringify(q)).sort());
  });

  it.each(FUNCTION_IDS)("%s: table actions on the table, Query on its wiring's indexes only", (id) => {
    const tableArn = JSON.stringify(arn(stack.table));
    const indexArns = indexesOf(SPECS[id]).map((name) => JSON.stringify({ "Fn::Join": ["", [arn(stack.table), `/index/${name}`]] }));
    expect(resourcesFor(id, "dynamodb:PutItem")).toEqual(SPECS[id].access.table === "readWrite" ? [tableArn] : []);
    expect(resourcesFor(id, "dynamodb:Query")).toEqual(SPECS[id].access.table === "none" ? [] : [tableArn, ...indexArns].sort());
  });

  it.each(FUNCTION_IDS)("%s: publishes to the job topic and the default bus, for the pipeline's source only", (id) => {
    expect(resourcesFor(id, "sns:Publish")).toEqual(SPECS[id].access.publish ? [JSON.stringify(ref(stack.topic))] : []);
    const putEvents = roleStatements(id).filter((s) => actionsOf(s).includes("events:PutEvents"));
    expect(putEvents).toHaveLength(SPECS[id].access.publish ? 1 : 0);
    for (const s of putEvents) {
      expect(JSON.stringify(s.Resource)).toContain(":event-bus/default");
      expect(s.Condition).toEqual({ StringEquals: { "events:source": wiring.eventSource } });
    }
  });

  it.each(FUNCTION_IDS)("%s: reads the provider secret only if it calls the provider", (id) => {
    expect(resourcesFor(id, "secretsmanager:GetSecretValue")).toEqual(
      SPECS[id].access.providerSecret ? [JSON.stringify(ref(stack.providerSecret))] : [],
    );
  });

  it.each(FUNCTION_IDS)("%s: deletes no table item but queued jobs' (provider slots are taken and freed with UpdateItem)", (id) => {
    const deletes = roleStatements(id).filter((s) => actionsOf(s).includes("dynamodb:DeleteItem"));
    // The chunker of a stack with deleteJobsWithSource deletes job items too: not this stack.
    expect(deletes).toHaveLength(SPECS[id].access.table === "readWrite" ? 1 : 0);
    for (const s of deletes) {
      expect(actionsOf(s)).toEqual(["dynamodb:DeleteItem"]);
      expect(s.Condition).toEqual({ "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": [wiring.table.queuedJobsPartition] } });
    }
  });

  it("needs no more than readWrite table access for the provider slots, and touches only their item", async () => {
    // Prepare: a table client that records commands; the first take fails as if the slots item were missing.
    const sent: unknown[] = [];
    let updates = 0;
    const db = {
      send: async (command: unknown) => {
        sent.push(command);
        if (command instanceof UpdateCommand && updates++ === 0) {
          throw Object.assign(new Error("condition"), { name: "ConditionalCheckFailedException" });
        }
        return {};
      },
    } as unknown as DynamoDBDocumentClient;
    const slots = new ProviderSlots(db, "t", { slots: 2, leaseSeconds: 60 });
    // Act
    await slots.run(async () => "request");
    // Assess: take (fails), read, create, take, free; every one on the slots item, with an action the transcriber has.
    const kinds = sent.map((c) =>
      c instanceof GetCommand ? "dynamodb:GetItem" : c instanceof PutCommand ? "dynamodb:PutItem" : c instanceof UpdateCommand ? "dynamodb:UpdateItem" : "other",
    );
    expect(kinds).toEqual(["dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:UpdateItem"]);
    for (const kind of kinds) expect(TABLE_ACTIONS.readWrite as readonly string[]).toContain(kind);
    for (const c of sent) {
      const input = (c as GetCommand | PutCommand | UpdateCommand).input as { TableName: string; Key?: object; Item?: object };
      expect(input.TableName).toBe("t");
      expect(input.Key ?? { pk: (input.Item as { pk: unknown }).pk, sk: (input.Item as { sk: unknown }).sk }).toEqual(PROVIDER_SLOTS_KEY);
    }
  });

  it.each(FUNCTION_IDS)("%s: uses the app key only through the services it calls", (id) => {
    const kmsStatements = roleStatements(id).filter((s) => actionsOf(s).some((a) => a.startsWith("kms:")));
    for (const s of kmsStatements) expect(s.Resource).toEqual(arn(stack.key));
    const writes = kmsStatements.filter((s) => actionsOf(s).includes("kms:GenerateDataKey"));
    for (const s of writes) expect(Object.keys(s.Condition?.StringEquals ?? {})).toEqual(["kms:ViaService"]);
  });
});

describe("cdk-nag AwsSolutions", () => {
  it("reports no unacknowledged finding, errors or warnings", () => {
    // Act
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
    // Assess
    const findings = report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(", ")}`);
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it("stays clean with the realtime gateway deployed beside the pipeline", () => {
    // Prepare
    // ALB access logging needs a concrete region (the log-delivery account differs per region).
    const withGateway = quickStack({
      env: { region: "us-east-1" },
      settings: { realtimeCertificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/test" },
    });
    // Act
    const report = new AwsSolutionsChecks().validateScope(withGateway);
    // Assess
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    Template.fromStack(withGateway).resourceCountIs("AWS::ECS::Service", 1);
  });

  it("gives every acknowledgment a written reason", () => {
    const acks = recorded.get(stack) ?? [];
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) expect(a.reason.length, `${a.id} on ${a.path}`).toBeGreaterThanOrEqual(40);
  });

  it("acknowledges only findings that actually occur (no stale acknowledgments)", () => {
    // Prepare: the same stack without acknowledgments.
    const raw = quickStack({ acknowledgeNagFindings: false, settings: { alarmEmail: "ops@example.com" } });
    // Act
    const findings = new AwsSolutionsChecks().validateScope(raw).violations;
    const occurring = new Set(
      findings.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName}@${(r.constructPath ?? "").replace(/^Quick\//, "")}`)),
    );
    // Assess: every acknowledgment silences a finding on its construct or below it.
    for (const a of recorded.get(stack) ?? []) {
      const path = a.path.replace(/^SpeechToText\//, "");
      const hit = [...occurring].some((f) => f.startsWith(`${a.id}@${path}`));
      expect(hit, `${a.id} on ${a.path}`).toBe(true);
    }
  });

  it("leaves no CDK warnings or errors on the stack", () => {
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError("*", Match.anyValue())).toEqual([]);
    expect(annotations.findWarning("*", Match.anyValue())).toEqual([]);
  });
});

describe("settings", () => {
  it("caps in-flight provider requests with providerMaxInFlight: the transcriber's concurrency and its slots", () => {
    // Prepare
    const quick = quickStack({ settings: { providerMaxInFlight: 12 } });
    // Act
    const t = Template.fromStack(quick);
    // Assess: 12 invocations, one segment request each, and 12 slots shared with the probes.
    t.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      EventSourceArn: { "Fn::GetAtt": [quick.getLogicalId(quick.queues.segments.queue.node.defaultChild as CfnElement), "Arn"] },
      ScalingConfig: { MaximumConcurrency: 12 },
    });
    const resources = t.toJSON().Resources;
    const transcriber = resources[quick.getLogicalId(quick.functions.transcriber.fn.node.defaultChild as CfnElement)];
    expect(transcriber.Properties.Environment.Variables[ENV.providerMaxInFlight]).toBe("12");
    const chunker = resources[quick.getLogicalId(quick.functions.chunker.fn.node.defaultChild as CfnElement)];
    expect(chunker.Properties.Environment.Variables[ENV.providerMaxInFlight]).toBe("12");
    // The stitcher's own cap is the wiring's, untouched by the provider cap.
    t.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      EventSourceArn: { "Fn::GetAtt": [quick.getLogicalId(quick.queues.stitch.queue.node.defaultChild as CfnElement), "Arn"] },
      ScalingConfig: { MaximumConcurrency: wiring.functions.stitcher.trigger.maxConcurrency },
    });
  });

  it("fails the synth when providerMaxInFlight is outside SQS's maximum concurrency range of 2..1000", () => {
    expect(() => quickStack({ settings: { providerMaxInFlight: 1 } })).toThrow(/providerMaxInFlight must be an integer in \[2, 1000\], got 1/);
    expect(() => quickStack({ settings: { providerMaxInFlight: 1001 } })).toThrow(/providerMaxInFlight must be an integer in \[2, 1000\]/);
    expect(() => quickStack({ settings: { providerMaxInFlight: 12.5 } })).toThrow(/providerMaxInFlight must be an integer/);
    // The bounds themselves are fine.
    const smallest = Template.fromStack(quickStack({ settings: { providerMaxInFlight: 2 } }));
    smallest.hasResourceProperties("AWS::Lambda::EventSourceMapping", { ScalingConfig: { MaximumConcurrency: 2 } });
    expect(resolveSettings({ providerMaxInFlight: 1000 }).providerMaxInFlight).toBe(1000);
  });

  it("uses an existing secret by name without creating one, and grants only that secret", () => {
    // Prepare
    const quick = quickStack({ settings: { providerSecretName: "stt/provider-key" } });
    // Act
    const t = Template.fromStack(quick);
    // Assess
    t.resourceCountIs("AWS::SecretsManager::Secret", 0);
    const partialArn = (suffix: string) => ({
      "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":secretsmanager:", { Ref: "AWS::Region" }, ":", { Ref: "AWS::AccountId" }, `:secret:stt/provider-key${suffix}`]],
    });
    t.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: Match.arrayWith([{ Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: partialArn("-??????") }]),
      },
    });
    t.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ [ENV.apiKeySecretArn]: partialArn("") }) },
    });
    expect(new AwsSolutionsChecks().validateScope(quick).violations.map((v) => v.ruleName)).toEqual([]);
  });

  it("passes provider, chunking and retention settings to the functions", () => {
    const quick = quickStack({
      settings: { providerBaseUrl: "https://example.test/v1", model: "m", chunkSeconds: 60, overlapSeconds: 2, retentionDays: 7 },
    });
    Template.fromStack(quick).hasResourceProperties("AWS::Lambda::Function", {
      Environment: {
        Variables: Match.objectLike({
          [ENV.baseUrl]: "https://example.test/v1",
          [ENV.model]: "m",
          [ENV.chunkSeconds]: "60",
          [ENV.overlapSeconds]: "2",
          [ENV.retentionDays]: "7",
        }),
      },
    });
  });

  it("rejects values AWS or the pipeline cannot run with, listing each problem", () => {
    expect(() => resolveSettings({ providerMaxInFlight: 1 })).toThrow(/providerMaxInFlight/);
    expect(() => resolveSettings({ chunkSeconds: 30, overlapSeconds: 30 })).toThrow(/overlapSeconds \(30\) must be less than chunkSeconds \(30\)/);
    expect(() => resolveSettings({ overlapSeconds: 31 })).toThrow(/overlapSeconds must be in \[0, 30\]/);
    expect(() => resolveSettings({ providerBaseUrl: "http://insecure.example" })).toThrow(/https/);
    expect(() => resolveSettings({ providerTimeoutMs: 200_000 })).toThrow(/exceeds the transcriber timeout/);
    expect(() => resolveSettings({ logRetentionDays: 10 })).toThrow(/logRetentionDays/);
    expect(() => resolveSettings({ alarmEmail: "nope" })).toThrow(/alarmEmail/);
  });

  it("reads context values given as strings on the command line", () => {
    const context: Record<string, unknown> = { "stt:providerMaxInFlight": "12", "stt:model": "x/y", "stt:alarmEmail": "a@b.co" };
    const s = settingsFromContext((k) => context[k]);
    expect(s).toMatchObject({ providerMaxInFlight: 12, model: "x/y", alarmEmail: "a@b.co", chunkSeconds: DEFAULT_SETTINGS.chunkSeconds });
  });

  it("fails on the old stt:transcriberMaxConcurrency instead of ignoring it", () => {
    const context: Record<string, unknown> = { "stt:transcriberMaxConcurrency": "8" };
    expect(() => settingsFromContext((k) => context[k])).toThrow(
      /transcriberMaxConcurrency is no longer read: set stt:providerMaxInFlight, the cap on all provider requests .* also the transcriber's SQS maximum concurrency/,
    );
  });

  it("keeps cdk.json's context defaults equal to the code's defaults", () => {
    const cdkJson = JSON.parse(readFileSync(join(process.cwd(), "cdk.json"), "utf8")) as { app: string; context: Record<string, unknown> };
    expect(cdkJson.app).toBe("npx tsx infra/app.ts");
    expect(settingsFromContext((k) => cdkJson.context[k])).toEqual(DEFAULT_SETTINGS);
  });
});

describe("deleteJobsWithSource: a deleted recording deletes its jobs", () => {
  it("is off by default: no ObjectRemoved trigger, no delete rights", () => {
    // Assess (the shared stack has the default settings)
    expect(DEFAULT_SETTINGS.deleteJobsWithSource).toBe(false);
    const events = Object.values(template.findResources("Custom::S3BucketNotifications")).flatMap((n: any) =>
      (n.Properties.NotificationConfiguration.LambdaFunctionConfigurations as any[]).flatMap((c) => c.Events as string[]),
    );
    expect(events).toEqual(["s3:ObjectCreated:*"]);
    for (const id of FUNCTION_IDS) {
      expect(resourcesFor(id, "s3:DeleteObject")).toEqual([]);
      // Only queued jobs' items, on a condition (see "deletes no table item but queued jobs'").
      const unconditioned = roleStatements(id).filter((s) => actionsOf(s).includes("dynamodb:DeleteItem") && !s.Condition);
      expect(unconditioned).toEqual([]);
    }
  });

  it("on, sends the input bucket's ObjectRemoved events to the chunker, which may delete only under jobs/ and job items", () => {
    // Prepare
    const quick = quickStack({ settings: { deleteJobsWithSource: true } });

    // Act
    const synthesized = Template.fromStack(quick);

    // Assess: the trigger
    const configs = Object.values(synthesized.findResources("Custom::S3BucketNotifications")).flatMap(
      (n: any) => n.Properties.NotificationConfiguration.LambdaFunctionConfigurations as any[],
    );
    const chunkerArn = { "Fn::GetAtt": [quick.getLogicalId(quick.functions.chunker.fn.node.defaultChild as CfnElement), "Arn"] };
    expect(configs.map((c) => c.Events).sort()).toEqual([["s3:ObjectCreated:*"], ["s3:ObjectRemoved:*"]]);
    for (const c of configs) expect(c.LambdaFunctionArn).toEqual(chunkerArn);
    // ... the rights, on the chunker's role only
    const roleId = quick.getLogicalId(quick.functions.chunker.role.node.defaultChild as CfnElement);
    const statements = Object.values(synthesized.findResources("AWS::IAM::Policy")).flatMap((p: any) =>
      p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId) ? (p.Properties.PolicyDocument.Statement as Statement[]) : [],
    );
    const deletes = statements.filter((s) => actionsOf(s).includes("s3:DeleteObject")).flatMap(resourcesOf);
    expect(deletes).toHaveLength(2);
    for (const resource of deletes) expect(JSON.stringify(resource)).toMatch(/\/jobs\/\*"/);
    expect(statements.some((s) => actionsOf(s).includes("dynamodb:DeleteItem"))).toBe(true);
    const lists = statements.filter((s) => actionsOf(s).includes("s3:ListBucket") && s.Condition);
    expect(lists.map((s) => s.Condition)).toContainEqual({ StringLike: { "s3:prefix": ["jobs/*"] } });
  });

  it("stays clean under cdk-nag with the setting on", () => {
    // Act
    const report = new AwsSolutionsChecks().validateScope(quickStack({ settings: { deleteJobsWithSource: true } }));

    // Assess
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(", ")}`)).toEqual([]);
  });

  it("is read from context as true or false, and refuses anything else", () => {
    // Act + Assess
    const context = (value: unknown) => (key: string) => (key === "stt:deleteJobsWithSource" ? value : undefined);
    expect(settingsFromContext(context("true")).deleteJobsWithSource).toBe(true);
    expect(settingsFromContext(context(false)).deleteJobsWithSource).toBe(false);
    expect(() => settingsFromContext(context("yes"))).toThrow(/deleteJobsWithSource must be true or false, got yes/);
  });
});

describe("prices and cost caps: stack settings to the functions' environment", () => {
  it("gives every function the prices, and only the chunker (where jobs start) the caps", () => {
    // Prepare
    const quick = quickStack({ settings: { prices: { ...DEFAULT_SETTINGS.prices, providerPerAudioMinute: 0.006 }, maxJobCost: 2, maxDailyCost: 50 } });
    const functions = Template.fromStack(quick).findResources("AWS::Lambda::Function");
    const envOf = (id: FunctionId) => functions[quick.getLogicalId(quick.functions[id].fn.node.defaultChild as CfnElement)].Properties.Environment.Variables;

    // Assess
    for (const id of FUNCTION_IDS) {
      expect(envOf(id)).toMatchObject({ [ENV.priceProviderPerAudioMinute]: "0.006", [ENV.priceLambdaPerGbSecond]: String(DEFAULT_SETTINGS.prices.lambdaPerGbSecond) });
    }
    expect(envOf("chunker")).toMatchObject({ [ENV.maxJobCost]: "2", [ENV.maxDailyCost]: "50" });
    expect(envOf("transcriber")[ENV.maxDailyCost]).toBeUndefined();
  });

  it("reads prices from context, one at a time or as JSON, over the defaults, and refuses a bad one", () => {
    // Prepare
    const context = (values: Record<string, unknown>) => (key: string) => values[key];

    // Act
    const one = settingsFromContext(context({ "stt:prices.providerPerAudioMinute": "0.006", "stt:maxDailyCost": "10" }));
    const json = settingsFromContext(context({ "stt:prices": '{"lambdaPerGbSecond": 0.0000133334}' }));

    // Assess
    expect(one.prices).toEqual({ ...DEFAULT_SETTINGS.prices, providerPerAudioMinute: 0.006 });
    expect(one.maxDailyCost).toBe(10);
    expect(one.maxJobCost).toBeUndefined();
    expect(json.prices.lambdaPerGbSecond).toBe(0.0000133334);
    expect(() => settingsFromContext(context({ "stt:prices.providerPerAudioMinute": "-1" }))).toThrow(/prices.providerPerAudioMinute must be in \[0, 100\], got -1/);
  });
});
