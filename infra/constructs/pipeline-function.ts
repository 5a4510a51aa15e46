/**
 * One pipeline Lambda: runtime, architecture, bundling, tracing, logging and
 * sizing are set here once, from the wiring's FunctionSpec. Permissions are
 * named grant methods that add exactly the actions a handler calls, on exactly
 * the resources it touches; the stack calls them from `spec.access`.
 */
import { join } from "node:path";
import { Construct } from "constructs";
import { Duration, Size, Stack } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat, type ICommandHooks } from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { wiring, type FunctionId, type FunctionSpec } from "../../shared/wiring.js";
import { FLAC_WORKER } from "../../shared/audio/flac-pool.js";
import { ARCHITECTURE, RUNTIME } from "./ffmpeg-layer.js";

/**
 * ESM output needs a `require` for the CommonJS dependencies esbuild inlines
 * (they call require("node:...") at run time). The alias keeps the banner's
 * import from clashing with a module's own `createRequire` import.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __sttCreateRequire } from 'node:module'; const require = __sttCreateRequire(import.meta.url);";

/** What esbuild compiles the handlers (and their workers) for: the RUNTIME's Node. */
const BUNDLE_TARGET = "node22";

/**
 * Worker-thread entries a function starts (new Worker(new URL("./<bundle>",
 * import.meta.url))): each is bundled to its own file beside the handler's
 * index.mjs. NodejsFunction bundles one entry, so the workers are a second
 * esbuild run after it, with the same esbuild, target and format.
 */
const WORKERS: Partial<Record<FunctionId, ReadonlyArray<{ source: string; bundle: string }>>> = {
  chunker: [FLAC_WORKER],
};

function workerBundling(workers: ReadonlyArray<{ source: string; bundle: string }> | undefined): ICommandHooks | undefined {
  if (!workers?.length) return undefined;
  const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir: string, outputDir: string) =>
      workers.map((worker) =>
        [
          "npx", "--no-install", "esbuild", `${inputDir}/${worker.source}`,
          "--bundle", "--platform=node", "--format=esm", `--target=${BUNDLE_TARGET}`, "--main-fields=module,main",
          "--minify", "--sourcemap", "--sources-content=false",
          `--tsconfig=${inputDir}/tsconfig.json`, `--outfile=${outputDir}/${worker.bundle}`,
        ]
          .map(quote)
          .join(" "),
      ),
  };
}

/** Actions on the job table, by access level. Query is the only one that needs the index ARN. */
export const TABLE_ACTIONS = {
  read: ["dynamodb:GetItem", "dynamodb:Query"],
  readWrite: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"],
} as const;

export interface PipelineFunctionProps {
  functionId: FunctionId;
  spec: FunctionSpec;
  /** Repository root: functions/<entry>/handler.ts, package-lock.json, tsconfig.json. */
  projectRoot: string;
  environment: Record<string, string>;
  layers?: lambda.ILayerVersion[];
  logRetention: logs.RetentionDays;
  /** The app's customer-managed key: every grant that touches encrypted data adds its use here. */
  key: kms.IKey;
}

export class PipelineFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly spec: FunctionSpec;
  private readonly key: kms.IKey;
  private keyStatement?: iam.PolicyStatement;
  private keyWrites = false;
  private readonly keyServices = new Set<string>();

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    const { spec } = props;
    this.spec = spec;
    this.key = props.key;

    this.logGroup = new logs.LogGroup(this, "Logs", { retention: props.logRetention });

    // Our own role instead of AWSLambdaBasicExecutionRole: logs go to this one group only.
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `Execution role of the ${props.functionId} function`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    this.fn = new NodejsFunction(this, "Function", {
      entry: join(props.projectRoot, "functions", spec.entry, "handler.ts"),
      handler: "handler",
      projectRoot: props.projectRoot,
      depsLockFilePath: join(props.projectRoot, "package-lock.json"),
      runtime: RUNTIME,
      architecture: ARCHITECTURE,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      ephemeralStorageSize: Size.mebibytes(spec.ephemeralStorageMb),
      role: this.role,
      layers: props.layers,
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      description: `stt ${props.functionId} (functions/${spec.entry}/handler.ts)`,
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: `stt-${spec.entry}`,
        NODE_OPTIONS: "--enable-source-maps",
      },
      bundling: {
        // No Docker here or in CI: the esbuild in node_modules bundles.
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: BUNDLE_TARGET,
        mainFields: ["module", "main"],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        tsconfig: join(props.projectRoot, "tsconfig.json"),
        // The AWS SDK is bundled (pinned by package-lock, the version the tests ran);
        // only the ffmpeg installers stay out: the layer provides the binaries and
        // STT_FFMPEG_PATH/STT_FFPROBE_PATH point at them, so the packages are never loaded.
        externalModules: ["@ffmpeg-installer/*", "@ffprobe-installer/*"],
        commandHooks: workerBundling(WORKERS[props.functionId]),
      },
    });
  }

  /** s3:GetObject on the bucket's objects (HeadObject and ranged/presigned GETs included). */
  grantReadObjects(bucket: s3.IBucket): void {
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ["s3:GetObject"], resources: [bucket.arnForObjects("*")] }),
    );
    if (bucket.encryptionKey) this.useKey("s3", false);
  }

  /**
   * s3:ListBucket on the bucket, so that a HeadObject for a missing key answers
   * 404 instead of 403 (the pipeline checks whether a result already exists);
   * with a prefix, only listings under it (the session sweeper lists a session's parts).
   */
  grantListObjects(bucket: s3.IBucket, prefix?: string): void {
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["s3:ListBucket"],
        resources: [bucket.bucketArn],
        conditions: prefix ? { StringLike: { "s3:prefix": [`${prefix}*`] } } : undefined,
      }),
    );
  }

  /** s3:PutObject on the bucket's objects; no delete, no ACL or tagging rights. */
  grantWriteObjects(bucket: s3.IBucket): void {
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ["s3:PutObject"], resources: [bucket.arnForObjects("*")] }),
    );
    if (bucket.encryptionKey) this.useKey("s3", true);
  }

  /**
   * s3:ListBucket and s3:DeleteObject under `prefix` only (deleting jobs: pipeline/delete-job.ts). DeleteObjects
   * is authorised per object by s3:DeleteObject.
   */
  grantDeleteObjects(bucket: s3.IBucket, prefix: string): void {
    this.grantListObjects(bucket, prefix);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ["s3:DeleteObject"], resources: [bucket.arnForObjects(`${prefix}*`)] }));
  }

  /** dynamodb:DeleteItem on the job table (a job item, conditionally; utterances go by BatchWriteItem). */
  grantDeleteJobItems(table: dynamodb.ITable): void {
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ["dynamodb:DeleteItem"], resources: [table.tableArn] }));
  }

  /** sqs:SendMessage (SendMessageBatch is authorised by the same action). */
  grantSendMessages(queue: sqs.IQueue): void {
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ["sqs:SendMessage"], resources: [queue.queueArn] }));
    if (queue.encryptionMasterKey) this.useKey("sqs", true);
  }

  /** The job table, and Query (only) on the named indexes. */
  grantJobTable(table: dynamodb.ITable, level: "read" | "readWrite", indexNames: readonly string[]): void {
    const actions = [...TABLE_ACTIONS[level]];
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: [table.tableArn] }));
    if (indexNames.length) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ["dynamodb:Query"],
          resources: indexNames.map((name) => `${table.tableArn}/index/${name}`),
        }),
      );
    }
    if (level === "readWrite") {
      // A queued job leaves the queue by deleting its item (adapters/job-schedule.ts): items of that partition only.
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ["dynamodb:DeleteItem"],
          resources: [table.tableArn],
          conditions: { "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": [wiring.table.queuedJobsPartition] } },
        }),
      );
    }
    if (table.encryptionKey) this.useKey("dynamodb", level === "readWrite");
  }

  grantPublish(topic: sns.ITopic): void {
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ["sns:Publish"], resources: [topic.topicArn] }));
    if (topic.masterKey) this.useKey("sns", true);
  }

  /** events:PutEvents on one bus, and only for the pipeline's own event source. */
  grantPutEvents(eventBusArn: string, source: string): void {
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["events:PutEvents"],
        resources: [eventBusArn],
        conditions: { StringEquals: { "events:source": source } },
      }),
    );
  }

  /**
   * secretsmanager:GetSecretValue on one secret: the function reads the key, never writes or lists.
   * A secret imported by name has a partial ARN; the real one ends in "-" and six random characters.
   */
  grantSecretValue(secret: secretsmanager.ISecret): void {
    const arn = secret.secretFullArn ?? `${secret.secretArn}-??????`;
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ["secretsmanager:GetSecretValue"], resources: [arn] }));
    if (secret.encryptionKey) this.useKey("secretsmanager", false);
  }

  /**
   * One statement on the app key for the whole role, restricted by kms:ViaService
   * to the services the grants above touch: the role cannot call KMS directly.
   * Reading needs Decrypt; writing needs GenerateDataKey (S3, SQS, SNS data keys)
   * and Encrypt (DynamoDB's table key).
   */
  private useKey(service: string, write: boolean): void {
    if (!this.keyStatement) {
      this.keyStatement = new iam.PolicyStatement({ actions: ["kms:Decrypt"], resources: [this.key.keyArn] });
      this.role.addToPrincipalPolicy(this.keyStatement);
    }
    if (write && !this.keyWrites) {
      this.keyStatement.addActions("kms:Encrypt", "kms:GenerateDataKey");
      this.keyWrites = true;
    }
    this.keyServices.add(`${service}.${Stack.of(this).region}.amazonaws.com`);
    this.keyStatement.addCondition("StringEquals", { "kms:ViaService": [...this.keyServices].sort() });
  }
}
