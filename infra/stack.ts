/**
 * The deployable pipeline, composed from shared/wiring.ts in the order the data
 * flows: key -> buckets -> queues -> job table -> notifications -> secret ->
 * functions (with the grants their wiring asks for) -> triggers -> alarms ->
 * outputs. Nothing about which function touches what is decided here: it is
 * read from `wiring.functions[id].access` and `.trigger`.
 */
import { fileURLToPath } from "node:url";
import { Construct } from "constructs";
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cwActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as events from "aws-cdk-lib/aws-events";
import * as eventTargets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as s3n from "aws-cdk-lib/aws-s3-notifications";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import * as sqs from "aws-cdk-lib/aws-sqs";
import {
  ENV,
  indexesOf,
  receivesRemovals,
  TABLE_INDEXES,
  wiring,
  type BucketId,
  type BucketSpec,
  type FunctionId,
  type FunctionSpec,
  type QueueId,
  type QueueSpec,
} from "../shared/wiring.js";
import { FfmpegLayer, LAYER_BIN } from "./constructs/ffmpeg-layer.js";
import { PipelineFunction } from "./constructs/pipeline-function.js";
import { addNagSuppressions } from "./nag-suppressions.js";
import { RealtimeGateway } from "./realtime/realtime-gateway.js";
import { resolveSettings, type PipelineSettings } from "./settings.js";

/**
 * The jobs' completion events go to the account's default bus, where Amazon
 * Transcribe's own "Transcription Job State Change" events arrive too: users
 * route both with the same kind of rule, and there is no extra bus to pay for,
 * secure or tear down.
 */
export const EVENT_BUS_NAME = "default";

/** AWS guidance for SQS event sources: visibility timeout at least 6x the function timeout. */
export const VISIBILITY_FACTOR = 6;

/**
 * Buckets where a function asks "does this object exist?" (HeadObject), which
 * answers 403 instead of 404 for a missing key without s3:ListBucket: the
 * chunker treats a source deleted before chunking as nothing to do
 * (shared/pipeline/chunk-recording.ts), the transcriber checks for a stored
 * result before calling the provider (shared/pipeline/transcribe-segment.ts).
 * Not yet in the wiring's `access`.
 */
export const EXISTENCE_CHECKS: Partial<Record<FunctionId, readonly BucketId[]>> = {
  chunker: ["input"],
  transcriber: ["work"],
};

/** Dead-letter queues keep messages for the SQS maximum: two weeks to look and redrive. */
const DLQ_RETENTION = Duration.days(14);

/** Alarm evaluation period. */
const ALARM_PERIOD = Duration.minutes(5);

export interface SpeechToTextStackProps extends StackProps {
  settings?: Partial<PipelineSettings>;
  /** Repository root (functions/, package-lock.json). Defaults to the folder above infra/. */
  projectRoot?: string;
  /** Record the cdk-nag acknowledgments (default true); off only for tests that look at the raw findings. */
  acknowledgeNagFindings?: boolean;
}

export interface PipelineQueue {
  queue: sqs.Queue;
  deadLetterQueue: sqs.Queue;
}

export class SpeechToTextStack extends Stack {
  readonly settings: PipelineSettings;
  readonly key: kms.Key;
  readonly accessLogsBucket: s3.Bucket;
  readonly buckets: Record<BucketId, s3.Bucket>;
  readonly queues: Record<QueueId, PipelineQueue>;
  /** Where Lambda puts S3 events the chunker failed on after its retries; the dead-letter function drains it (jobs FAILED). */
  readonly chunkerFailures: sqs.Queue;
  readonly table: dynamodb.Table;
  readonly topic: sns.Topic;
  readonly alarmTopic: sns.Topic;
  readonly providerSecret: secretsmanager.ISecret;
  readonly ffmpeg?: FfmpegLayer;
  readonly functions: Record<FunctionId, PipelineFunction>;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: SpeechToTextStackProps = {}) {
    super(scope, id, props);
    // Behaviour this stack relies on, independent of the cdk.json in use: access-log
    // delivery by bucket policy (ACLs stay disabled on every bucket).
    this.node.setContext("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", true);

    const settings = resolveSettings(props.settings);
    this.settings = settings;
    const projectRoot = props.projectRoot ?? fileURLToPath(new URL("..", import.meta.url));

    // One customer-managed key for the app's data at rest (objects, messages, job
    // records, notifications, the API key): one key policy to review, rotation on,
    // every use logged in CloudTrail and revocable in one place.
    this.key = new kms.Key(this, "Key", {
      description: `${id}: speech-to-text pipeline data (buckets, queues, table, topics, secret)`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // ---- Buckets: the drop zone, the job's working files, the transcripts.
    // Server access logs need an SSE-S3 target (S3 log delivery cannot use SSE-KMS).
    this.accessLogsBucket = new s3.Bucket(this, "AccessLogs", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const bucket = (bucketId: BucketId, spec: BucketSpec) =>
      new s3.Bucket(this, `${capitalize(bucketId)}Bucket`, {
        encryption: s3.BucketEncryption.KMS,
        encryptionKey: this.key,
        // One data key per bucket instead of a KMS call per object: ~99% fewer KMS requests.
        bucketKeyEnabled: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        serverAccessLogsBucket: this.accessLogsBucket,
        serverAccessLogsPrefix: `${spec.name}/`,
        lifecycleRules: [
          { id: "abort-incomplete-uploads", abortIncompleteMultipartUploadAfter: Duration.days(1) },
          ...(spec.expireDays ? [{ id: "expire", expiration: Duration.days(spec.expireDays) }] : []),
        ],
        // Uploaded media and transcripts outlive the stack; see the README's tear-down.
        removalPolicy: RemovalPolicy.RETAIN,
      });
    this.buckets = mapRecord(wiring.buckets as Record<BucketId, BucketSpec>, bucket);

    // ---- Queues: segments fan out to the transcriber, stitch fans in to the stitcher.
    const consumerOf = (queueId: QueueId): FunctionSpec => {
      const found = Object.values(wiring.functions as Record<FunctionId, FunctionSpec>).find(
        (f) => f.trigger.kind === "sqs" && f.trigger.queue === queueId,
      );
      if (!found) throw new Error(`no function consumes the ${queueId} queue in shared/wiring.ts`);
      return found;
    };
    const deadLetterConsumer = Object.values(wiring.functions as Record<FunctionId, FunctionSpec>).find(
      (f) => f.trigger.kind === "sqsDeadLetter",
    );
    const queue = (queueId: QueueId, spec: QueueSpec): PipelineQueue => {
      const consumer = consumerOf(queueId);
      if (spec.visibilityTimeoutSeconds < VISIBILITY_FACTOR * consumer.timeoutSeconds) {
        throw new Error(
          `wiring: ${queueId} visibility timeout ${spec.visibilityTimeoutSeconds}s is below ${VISIBILITY_FACTOR} x the ${consumer.entry} timeout (${consumer.timeoutSeconds}s)`,
        );
      }
      const deadLetterQueue = new sqs.Queue(this, `${capitalize(queueId)}Dlq`, {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: this.key,
        enforceSSL: true,
        retentionPeriod: DLQ_RETENTION,
        // The dead-letter function consumes it, so the same 6x rule applies to its timeout.
        visibilityTimeout: Duration.seconds(VISIBILITY_FACTOR * (deadLetterConsumer?.timeoutSeconds ?? 30)),
      });
      const main = new sqs.Queue(this, `${capitalize(queueId)}Queue`, {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: this.key,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: spec.maxReceiveCount },
      });
      return { queue: main, deadLetterQueue };
    };
    this.queues = mapRecord(wiring.queues as Record<QueueId, QueueSpec>, queue);

    this.chunkerFailures = new sqs.Queue(this, "ChunkerFailures", {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: DLQ_RETENTION,
      // The dead-letter function drains it (marks the job FAILED), so the 6x rule applies.
      visibilityTimeout: Duration.seconds(VISIBILITY_FACTOR * (deadLetterConsumer?.timeoutSeconds ?? 30)),
    });

    // ---- Job table: the job item (pk JOB#<id>, sk JOB), its utterances (sk UTT#...), realtime
    // session items (pk SESSION#<id>); jobs by source object through the sparse bySource index, live
    // sessions by heartbeat through the sparse byHeartbeat index, jobs newest first through byCreated.
    const t = wiring.table;
    this.table = new dynamodb.Table(this, "Jobs", {
      partitionKey: { name: t.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: t.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      timeToLiveAttribute: t.ttlAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of TABLE_INDEXES) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    // ---- Notifications: job ends on SNS (and on EventBridge, from the same code), alarms on their own topic.
    this.topic = new sns.Topic(this, "JobEvents", {
      displayName: "Speech-to-text job completed or failed",
      masterKey: this.key,
      enforceSSL: true,
    });
    this.alarmTopic = new sns.Topic(this, "Alarms", {
      displayName: "Speech-to-text pipeline alarms",
      masterKey: this.key,
      enforceSSL: true,
    });
    // CloudWatch publishes alarm state changes to the encrypted topic through this key.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "AllowCloudWatchAlarmsToPublishToEncryptedTopics",
        principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
      }),
    );
    if (settings.alarmEmail) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(settings.alarmEmail));

    // ---- The provider API key: only its ARN reaches the functions.
    this.providerSecret = settings.providerSecretName
      ? secretsmanager.Secret.fromSecretNameV2(this, "ProviderSecret", settings.providerSecretName)
      : new secretsmanager.Secret(this, "ProviderSecret", {
          description: `${id}: speech-to-text provider API key. Set it with: aws secretsmanager put-secret-value --secret-id <arn> --secret-string <key>`,
          encryptionKey: this.key,
          removalPolicy: RemovalPolicy.RETAIN,
        });

    // ---- Functions.
    const functionSpecs = wiring.functions as Record<FunctionId, FunctionSpec>;
    if (Object.values(functionSpecs).some((f) => f.needsFfmpeg)) {
      this.ffmpeg = new FfmpegLayer(this, "Ffmpeg", { projectRoot });
    }
    const eventBusArn = this.formatArn({ service: "events", resource: "event-bus", resourceName: EVENT_BUS_NAME });
    const environment: Record<string, string> = {
      // shared/config.ts resolves every resource name at cold start, in every handler.
      [ENV.inputBucket]: this.buckets.input.bucketName,
      [ENV.workBucket]: this.buckets.work.bucketName,
      [ENV.outputBucket]: this.buckets.output.bucketName,
      [ENV.segmentsQueueUrl]: this.queues.segments.queue.queueUrl,
      [ENV.stitchQueueUrl]: this.queues.stitch.queue.queueUrl,
      [ENV.table]: this.table.tableName,
      [ENV.topicArn]: this.topic.topicArn,
      [ENV.eventBusName]: EVENT_BUS_NAME,
      [ENV.baseUrl]: settings.providerBaseUrl,
      [ENV.model]: settings.model,
      [ENV.chunkSeconds]: String(settings.chunkSeconds),
      [ENV.overlapSeconds]: String(settings.overlapSeconds),
      [ENV.providerTimeoutMs]: String(settings.providerTimeoutMs),
      [ENV.providerMaxAttempts]: String(settings.providerMaxAttempts),
      [ENV.retentionDays]: String(settings.retentionDays),
      // Read by the stitcher (pipeline/redact-outputs.ts); every function gets it, so none can disagree.
      [ENV.redactionMandatory]: String(settings.redactionMandatory),
      // Prices: every function that may end a job settles its cost (shared/pipeline/cost-cap.ts).
      [ENV.priceProviderPerAudioMinute]: String(settings.prices.providerPerAudioMinute),
      [ENV.priceLambdaPerGbSecond]: String(settings.prices.lambdaPerGbSecond),
      [ENV.priceLambdaPerRequest]: String(settings.prices.lambdaPerRequest),
    };

    const build = (functionId: FunctionId, spec: FunctionSpec): PipelineFunction => {
      const fn = new PipelineFunction(this, capitalize(functionId), {
        functionId,
        spec,
        projectRoot,
        key: this.key,
        logRetention: settings.logRetentionDays as logs.RetentionDays,
        layers: spec.needsFfmpeg && this.ffmpeg ? [this.ffmpeg.layer] : undefined,
        environment: {
          ...environment,
          ...(spec.needsFfmpeg ? { [ENV.ffmpegPath]: `${LAYER_BIN}/ffmpeg`, [ENV.ffprobePath]: `${LAYER_BIN}/ffprobe` } : {}),
          // The provider cap: provider callers hold one of its slots (jobs table) per request, segment or probe,
          // and the chunker plans segment lengths for it.
          [ENV.providerMaxInFlight]: String(settings.providerMaxInFlight),
          ...(spec.access.providerSecret ? { [ENV.apiKeySecretArn]: this.providerSecret.secretArn } : {}),
          // The function that takes uploads also copies recordings given by URL (shared/sources/url-source.ts).
          ...(spec.trigger.kind === "s3" ? { [ENV.urlMaxBytes]: String(settings.urlMaxBytes) } : {}),
          // The longest recording is refused where jobs start (the chunker).
          ...(spec.trigger.kind === "s3" ? { [ENV.maxRecordingHours]: String(settings.maxRecordingHours) } : {}),
          // The running-jobs cap: any function with table access may end a job, and so start a queued one.
          ...(spec.access.table !== "none" ? { [ENV.maxRunningJobs]: String(settings.maxRunningJobs) } : {}),
          // The cost caps are checked where jobs start (the chunker), before anything reaches the provider.
          ...(spec.trigger.kind === "s3" && settings.maxJobCost !== undefined ? { [ENV.maxJobCost]: String(settings.maxJobCost) } : {}),
          ...(spec.trigger.kind === "s3" && settings.maxDailyCost !== undefined ? { [ENV.maxDailyCost]: String(settings.maxDailyCost) } : {}),
        },
      });
      const { access } = spec;
      for (const b of access.read) fn.grantReadObjects(this.buckets[b]);
      for (const b of access.write) fn.grantWriteObjects(this.buckets[b]);
      for (const b of EXISTENCE_CHECKS[functionId] ?? []) fn.grantListObjects(this.buckets[b]);
      for (const l of access.list ?? []) fn.grantListObjects(this.buckets[l.bucket], l.prefix);
      for (const q of access.send) fn.grantSendMessages(this.queues[q].queue);
      if (access.table !== "none") fn.grantJobTable(this.table, access.table, indexesOf(spec));
      if (access.publish) {
        fn.grantPublish(this.topic);
        fn.grantPutEvents(eventBusArn, wiring.eventSource);
      }
      if (access.providerSecret) fn.grantSecretValue(this.providerSecret);
      return fn;
    };
    this.functions = mapRecord(functionSpecs, build);

    // ---- Triggers, from the wiring.
    for (const [functionId, spec] of entries(functionSpecs)) {
      const fn = this.functions[functionId];
      const trigger = spec.trigger;
      switch (trigger.kind) {
        case "s3": {
          // No suffix filter: the chunker answers a non-audio upload with a FAILED record and a notification.
          this.buckets[trigger.bucket].addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(fn.fn));
          // Erasure requests (deleteJobsWithSource): a deleted recording deletes its jobs, with only the rights that takes.
          if (receivesRemovals(trigger, settings)) {
            this.buckets[trigger.bucket].addEventNotification(s3.EventType.OBJECT_REMOVED, new s3n.LambdaDestination(fn.fn));
            for (const d of trigger.removals.deletes) fn.grantDeleteObjects(this.buckets[d.bucket], d.prefix);
            fn.grantDeleteJobItems(this.table);
          }
          // S3 invokes asynchronously: after Lambda's two retries the event would be
          // dropped; keep it in a queue with an alarm instead.
          new lambda.EventInvokeConfig(this, `${capitalize(functionId)}AsyncInvoke`, {
            function: fn.fn,
            retryAttempts: trigger.asyncRetries,
            maxEventAge: Duration.hours(6),
            onFailure: { bind: () => ({ destination: this.chunkerFailures.queueArn }) },
          });
          fn.grantSendMessages(this.chunkerFailures);
          break;
        }
        case "sqs": {
          // The transcriber's concurrency is the provider cap: one segment request per invocation, probes share the slots.
          const maxConcurrency = functionId === "transcriber" ? settings.providerMaxInFlight : trigger.maxConcurrency;
          fn.fn.addEventSource(
            new SqsEventSource(this.queues[trigger.queue].queue, {
              batchSize: trigger.batchSize,
              reportBatchItemFailures: true,
              maxConcurrency,
            }),
          );
          break;
        }
        case "sqsDeadLetter": {
          const sources = [
            ...trigger.queues.map((q) => this.queues[q].deadLetterQueue),
            // Lambda's on-failure records for S3 events the chunker gave up on.
            ...(trigger.asyncFailures.length > 0 ? [this.chunkerFailures] : []),
          ];
          for (const source of sources) {
            fn.fn.addEventSource(new SqsEventSource(source, { batchSize: trigger.batchSize, reportBatchItemFailures: true }));
          }
          break;
        }
        case "schedule": {
          // No retries of a failed run: the next run, minutes later, does the same work.
          new events.Rule(this, `${capitalize(functionId)}Schedule`, {
            description: `Runs the ${functionId} function every ${trigger.everyMinutes} minutes`,
            schedule: events.Schedule.rate(Duration.minutes(trigger.everyMinutes)),
            targets: [new eventTargets.LambdaFunction(fn.fn, { retryAttempts: 0, maxEventAge: Duration.minutes(trigger.everyMinutes) })],
          });
          break;
        }
      }
    }

    if (settings.realtimeCertificateArn) {
      new RealtimeGateway(this, "Realtime", {
        inputBucket: this.buckets.input,
        workBucket: this.buckets.work,
        table: this.table,
        key: this.key,
        providerSecret: this.providerSecret,
        providerBaseUrl: settings.providerBaseUrl,
        model: settings.model,
        retentionDays: settings.retentionDays,
        certificate: acm.Certificate.fromCertificateArn(this, "RealtimeCertificate", settings.realtimeCertificateArn),
        accessLogsBucket: this.accessLogsBucket,
      });
    }

    this.addAlarms();
    this.addOutputs(eventBusArn);
    if (props.acknowledgeNagFindings ?? true) addNagSuppressions(this);
  }

  /** Every alarm description is a runbook: what it means, where to look, how to recover. */
  private addAlarms(): void {
    const alarm = (id: string, props: cloudwatch.AlarmProps) => {
      const a = new cloudwatch.Alarm(this, id, {
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...props,
      });
      a.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
      this.alarms.push(a);
    };

    for (const [queueId, q] of entries(this.queues)) {
      const name = capitalize(queueId);
      const [consumerId] = entries(wiring.functions as Record<FunctionId, FunctionSpec>).find(
        ([, f]) => f.trigger.kind === "sqs" && f.trigger.queue === queueId,
      )!;
      const consumer = this.functions[consumerId];
      alarm(`${name}DeadLettered`, {
        alarmDescription: [
          `${queueId} messages failed ${wiring.queues[queueId].maxReceiveCount} receives and reached the dead-letter queue; the dead-letter function marks their jobs FAILED (errorCode dead_lettered, error = the last error seen) and notifies.`,
          `Look: the FAILED job records or notifications; the ${consumerId} function's log group ${consumer.logGroup.logGroupName}, WARN "record will be retried" lines with that jobId (code, reason); its X-Ray traces (annotation jobId).`,
          `Recover: fix the cause, then upload the source object again (a new upload is a new job).`,
        ].join(" "),
        metric: q.deadLetterQueue.metricNumberOfMessagesReceived({ period: ALARM_PERIOD, statistic: "Sum" }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
      alarm(`${name}DlqDepth`, {
        alarmDescription: [
          `Messages stay in the ${queueId} dead-letter queue: the dead-letter function cannot record their failure, so their jobs are neither FAILED nor notified.`,
          `Look: the dead-letter function's log group ${this.functions.deadLetter.logGroup.logGroupName} (ERROR, and WARN "record will be retried" with jobId, code, reason) and its Errors alarm.`,
          `Recover: fix it and the event source mapping retries by itself; to retry the work instead, redrive with`,
          `aws sqs start-message-move-task --source-arn <${queueId} DLQ ARN> (messages go back to the ${queueId} queue).`,
        ].join(" "),
        metric: q.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD, statistic: "Maximum" }),
        threshold: 1,
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }

    alarm("ChunkerFailuresDepth", {
      alarmDescription: [
        `An S3 event the chunker gave up on (${wiring.functions.chunker.trigger.asyncRetries + 1} attempts, or too old) waits in the chunker-failures queue. The dead-letter function consumes it:`,
        "the upload's CHUNKING job becomes FAILED (errorCode chunker_failed, with the chunker's error) and is notified; with no such job it logs",
        `"a failed upload has no open job to fail". An alarm that stays means the dead-letter function cannot (its Errors alarm); it retries by itself after the fix.`,
        `Look: the job (bySource index), the chunker's log group ${this.functions.chunker.logGroup.logGroupName} (ERROR) and X-Ray traces, the ChunkerErrors alarm.`,
        "Recover: fix the cause, then upload the source object again (a new upload is a new job). Nothing to delete: the queue drains itself.",
      ].join(" "),
      metric: this.chunkerFailures.metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD, statistic: "Maximum" }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });

    for (const [functionId, fn] of entries(this.functions)) {
      const fromSqs = fn.spec.trigger.kind === "sqs" || fn.spec.trigger.kind === "sqsDeadLetter";
      alarm(`${capitalize(functionId)}Errors`, {
        alarmDescription: [
          `The ${functionId} function threw or timed out${fromSqs ? " (item failures reported to SQS do not count here)" : ""}.`,
          `Look: its log group ${fn.logGroup.logGroupName} (level ERROR${fn.spec.trigger.kind === "schedule" ? "" : "; lines name their jobId"}) and X-Ray traces (service stt-${fn.spec.entry}); Duration near ${fn.spec.timeoutSeconds}s means a timeout.`,
          `Recover: ${retryPath(fn.spec)}`,
        ].join(" "),
        metric: fn.fn.metricErrors({ period: ALARM_PERIOD, statistic: "Sum" }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }
  }

  private addOutputs(eventBusArn: string): void {
    const out = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    out("InputBucketName", this.buckets.input.bucketName, "Drop audio/video here (aws s3 cp file s3://<bucket>/ --metadata ...)");
    out("WorkBucketName", this.buckets.work.bucketName, `Segments and raw results, expired after ${wiring.buckets.work.expireDays} days`);
    out("OutputBucketName", this.buckets.output.bucketName, "Transcripts: jobs/<jobId>/transcript.{json,verbose.json,txt,srt,vtt}");
    out("TableName", this.table.tableName, "Jobs (pk JOB#<jobId>, sk JOB) and utterances (sk UTT#...)");
    out("SourceIndexName", wiring.table.sourceIndex.name, "GSI: gsi1pk = SOURCE#<bucket>/<key>");
    out("TopicArn", this.topic.topicArn, "Job COMPLETED/FAILED notifications");
    out("AlarmTopicArn", this.alarmTopic.topicArn, "CloudWatch alarm notifications");
    out(
      "EventBusArn",
      eventBusArn,
      `Job events: source ${wiring.eventSource}, detail-type "${wiring.eventDetailType}" (job ended) or "${wiring.transcriptChangedDetailType}" (speaker renamed)`,
    );
    out("SegmentsQueueUrl", this.queues.segments.queue.queueUrl, "Segments to transcribe");
    out("StitchQueueUrl", this.queues.stitch.queue.queueUrl, "Jobs ready to stitch");
    out("SegmentsDlqUrl", this.queues.segments.deadLetterQueue.queueUrl, "Dead-lettered segment messages");
    out("StitchDlqUrl", this.queues.stitch.deadLetterQueue.queueUrl, "Dead-lettered stitch messages");
    out("ChunkerFailuresQueueUrl", this.chunkerFailures.queueUrl, "S3 events the chunker failed on");
    out("ProviderSecretArn", this.providerSecret.secretArn, "Put the provider API key here (put-secret-value)");
    out("KeyArn", this.key.keyArn, "KMS key encrypting the pipeline's data; uploaders need kms:GenerateDataKey on it");
  }
}

/** What happens to the failed event on its own, and what a human does after the fix. */
function retryPath(spec: FunctionSpec): string {
  switch (spec.trigger.kind) {
    case "s3":
      return "Lambda retries the S3 event twice, then sends it to the chunker-failures queue, where the dead-letter function marks the job FAILED; after fixing, upload the source object again.";
    case "sqs":
      return `SQS redelivers the message (visibility timeout) up to its queue's maxReceiveCount, then the dead-letter function marks the job FAILED; after fixing, upload the source object again.`;
    case "sqsDeadLetter":
      return `the message stays in its dead-letter (or chunker-failures) queue and is retried until it succeeds or its ${DLQ_RETENTION.toDays()}-day retention ends (DlqDepth, ChunkerFailuresDepth alarms); fix and it drains by itself.`;
    case "schedule":
      return `the next scheduled run (every ${spec.trigger.everyMinutes} minutes) does the same work again: a session whose sweep died is claimable a minute after its last heartbeat; after fixing, nothing else is needed.`;
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function entries<K extends string, V>(record: Record<K, V>): [K, V][] {
  return Object.entries(record) as [K, V][];
}

function mapRecord<K extends string, V, R>(record: Record<K, V>, f: (key: K, value: V) => R): Record<K, R> {
  return Object.fromEntries(entries(record).map(([k, v]) => [k, f(k, v)])) as Record<K, R>;
}
