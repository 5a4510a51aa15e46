/**
 * The realtime gateway in AWS: an ECS Fargate service behind an Application Load Balancer.
 *
 * Why not API Gateway WebSocket APIs: every audio frame (4 a second) would be a Lambda invocation that
 * has to load the session's state, the connection to Together's realtime endpoint cannot be held across
 * invocations, and connections end after 2 hours (10 minutes idle). A container holds the client socket,
 * the provider socket and the session's audio in memory, with one hop of latency. The ALB passes
 * WebSockets through, terminates TLS, and its idle timeout is raised to an hour.
 *
 * Autoscaling tracks the gateway's own ActiveSessions metric (published per task in embedded metric
 * format), with CPU as a second signal. Scale-in and deployments send SIGTERM: the gateway closes its
 * sessions with 1012 (clients reconnect to another task) and submits each to the batch pipeline first.
 */
import { fileURLToPath } from "node:url";
import { Construct } from "constructs";
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type CfnResource } from "aws-cdk-lib";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as ecsPatterns from "aws-cdk-lib/aws-ecs-patterns";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { ENV, wiring } from "../../shared/wiring.js";
import { REALTIME_ENV, DEFAULT_REALTIME_PORT } from "../../realtime/config.js";

export interface RealtimeGatewayProps {
  inputBucket: s3.IBucket;
  workBucket: s3.IBucket;
  table: dynamodb.ITable;
  /** The app's customer-managed key (buckets, table, secrets). */
  key: kms.IKey;
  /** The provider's API key: only its ARN reaches the task. */
  providerSecret: secretsmanager.ISecret;
  providerBaseUrl: string;
  model: string;
  retentionDays?: number;
  /** TLS for wss://. Without one the listener is plain HTTP (ws://), for a first try only. */
  certificate?: acm.ICertificate;
  /** `auto` (default), `realtime` or `http`. */
  upstreamMode?: "auto" | "realtime" | "http";
  /** Sessions end in a batch job (default true); false: their parts stay in the work bucket (STT_REALTIME_BATCH_JOB=off). */
  batchJob?: boolean;
  vpc?: ec2.IVpc;
  minTasks?: number;
  maxTasks?: number;
  /** Target live sessions per task for autoscaling (default 50 on 0.5 vCPU). */
  sessionsPerTask?: number;
  cpu?: number;
  memoryMiB?: number;
  logRetention?: logs.RetentionDays;
  /** Where the load balancer writes its access logs (SSE-S3: ELB log delivery cannot use a KMS key). */
  accessLogsBucket?: s3.IBucket;
  /** Repository root (Dockerfile context). Defaults to two folders above this file. */
  projectRoot?: string;
}

export class RealtimeGateway extends Construct {
  readonly service: ecsPatterns.ApplicationLoadBalancedFargateService;
  /** Gateway keys (comma-separated or a JSON array), never the provider's key. */
  readonly keysSecret: secretsmanager.Secret;
  readonly url: string;

  constructor(scope: Construct, id: string, props: RealtimeGatewayProps) {
    super(scope, id);
    const projectRoot = props.projectRoot ?? fileURLToPath(new URL("../..", import.meta.url));
    const vpc =
      props.vpc ??
      new ec2.Vpc(this, "Vpc", {
        maxAzs: 2,
        // Public subnets only: tasks reach the provider and AWS APIs directly, without a NAT gateway's
        // ~$33 a month; their security group admits only the load balancer.
        natGateways: 0,
        subnetConfiguration: [{ name: "public", subnetType: ec2.SubnetType.PUBLIC }],
        flowLogs: { rejected: { trafficType: ec2.FlowLogTrafficType.REJECT } },
      });

    this.keysSecret = new secretsmanager.Secret(this, "GatewayKeys", {
      description: "Realtime gateway keys, comma-separated: what clients send as their API key. Not the provider's key.",
      encryptionKey: props.key,
      generateSecretString: { excludePunctuation: true, passwordLength: 40 },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const logGroup = new logs.LogGroup(this, "Logs", {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const tls = Boolean(props.certificate);
    // Container Insights: per-task CPU, memory and network, next to the session metric autoscaling uses.
    const cluster = new ecs.Cluster(this, "Cluster", { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    this.service = new ecsPatterns.ApplicationLoadBalancedFargateService(this, "Service", {
      cluster,
      cpu: props.cpu ?? 512,
      memoryLimitMiB: props.memoryMiB ?? 1024,
      desiredCount: props.minTasks ?? 1,
      assignPublicIp: true,
      taskSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      publicLoadBalancer: true,
      protocol: tls ? elbv2.ApplicationProtocol.HTTPS : elbv2.ApplicationProtocol.HTTP,
      certificate: props.certificate,
      redirectHTTP: tls,
      sslPolicy: tls ? elbv2.SslPolicy.RECOMMENDED_TLS : undefined,
      // A WebSocket with a pause longer than this is cut by the ALB; clients send audio continuously.
      idleTimeout: Duration.seconds(3600),
      circuitBreaker: { rollback: true },
      minHealthyPercent: 100,
      taskImageOptions: {
        image: ecs.ContainerImage.fromAsset(projectRoot, {
          file: "infra/realtime/Dockerfile",
          exclude: ["node_modules", "cdk.out", ".stt", ".git", "test", "bench", "functions", "infra/**/*.ts"],
        }),
        containerPort: DEFAULT_REALTIME_PORT,
        logDriver: ecs.LogDrivers.awsLogs({ streamPrefix: "gateway", logGroup }),
        environment: {
          [REALTIME_ENV.port]: String(DEFAULT_REALTIME_PORT),
          [REALTIME_ENV.upstream]: props.upstreamMode ?? "auto",
          [REALTIME_ENV.batchJob]: props.batchJob === false ? "off" : "on",
          [REALTIME_ENV.keysSecretArn]: this.keysSecret.secretArn,
          STT_REALTIME_SERVICE_NAME: id,
          [ENV.apiKeySecretArn]: props.providerSecret.secretArn,
          [ENV.baseUrl]: props.providerBaseUrl,
          [ENV.model]: props.model,
          [ENV.inputBucket]: props.inputBucket.bucketName,
          [ENV.workBucket]: props.workBucket.bucketName,
          [ENV.table]: props.table.tableName,
          ...(props.retentionDays ? { [ENV.retentionDays]: String(props.retentionDays) } : {}),
        },
      },
    });
    if (props.accessLogsBucket) this.service.loadBalancer.logAccessLogs(props.accessLogsBucket, "realtime-alb");
    this.acknowledgeNagFindings(props);
    this.service.targetGroup.configureHealthCheck({ path: "/healthz", healthyHttpCodes: "200", interval: Duration.seconds(15) });
    this.service.targetGroup.setAttribute("deregistration_delay.timeout_seconds", "30");
    this.service.loadBalancer.setAttribute("routing.http.drop_invalid_header_fields.enabled", "true");

    // ---- Permissions: exactly what the gateway calls.
    const role = this.service.taskDefinition.taskRole;
    // Explicit actions rather than grantReadWrite's wildcards (s3:GetObject*, s3:List*...).
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
        resources: [props.workBucket.arnForObjects("sessions/*")],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["s3:ListBucket"],
        resources: [props.workBucket.bucketArn],
        conditions: { StringLike: { "s3:prefix": ["sessions/*"] } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ["s3:PutObject"], resources: [props.inputBucket.arnForObjects("realtime/*")] }),
    );
    // The live-session index: at start the gateway ends sessions a dead gateway left behind.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:Query"],
        resources: [
          props.table.tableArn,
          `${props.table.tableArn}/index/${wiring.table.sourceIndex.name}`,
          `${props.table.tableArn}/index/${wiring.table.liveSessionIndex.name}`,
        ],
      }),
    );
    props.key.grant(role, "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey");
    props.providerSecret.grantRead(role);
    this.keysSecret.grantRead(role);

    // ---- Autoscaling on live sessions per task, CPU as a backstop.
    const scaling = this.service.service.autoScaleTaskCount({ minCapacity: props.minTasks ?? 1, maxCapacity: props.maxTasks ?? 10 });
    scaling.scaleToTrackCustomMetric("Sessions", {
      metric: new cloudwatch.Metric({
        namespace: "stt/realtime",
        metricName: "ActiveSessions",
        // Powertools Metrics' default dimension (realtime/gateway-metrics.ts), set from STT_REALTIME_SERVICE_NAME.
        dimensionsMap: { service: id },
        statistic: "Average",
        period: Duration.minutes(1),
      }),
      targetValue: props.sessionsPerTask ?? 50,
      // Scale in slowly: every scale-in moves live sessions to another task.
      scaleInCooldown: Duration.minutes(10),
      scaleOutCooldown: Duration.minutes(1),
    });
    scaling.scaleOnCpuUtilization("Cpu", { targetUtilizationPercent: 60, scaleInCooldown: Duration.minutes(10) });

    this.url = `${tls ? "wss" : "ws"}://${this.service.loadBalancer.loadBalancerDnsName}/v1/realtime`;
    new CfnOutput(this, "RealtimeUrl", { value: this.url, description: "Realtime transcription WebSocket (Together's /v1/realtime protocol)" });
    new CfnOutput(this, "GatewayKeysSecret", { value: this.keysSecret.secretArn, description: "Gateway keys clients authenticate with" });
  }

  /** The cdk-nag findings this construct accepts, each with its reason. */
  private acknowledgeNagFindings(props: RealtimeGatewayProps): void {
    const ack = (id: string, reason: string) => Validations.of(this).acknowledge({ id, reason });
    const logicalArn = (bucket: s3.IBucket) => `<${Stack.of(this).getLogicalId(bucket.node.defaultChild as CfnResource)}.Arn>`;
    ack("AwsSolutions-EC23", "A public realtime API: the load balancer accepts wss:// from anywhere on 443 (and 80 only to redirect); tasks admit only the load balancer.");
    ack("AwsSolutions-ECS2", "The task's environment holds only configuration (names, ARNs, URLs, modes); the provider key and gateway keys are read from Secrets Manager by ARN at start.");
    ack("AwsSolutions-SMG4", "Gateway keys are issued to clients by the operator; rotating them is a deliberate, manual change (put-secret-value), picked up without a deploy.");
    ack(`AwsSolutions-IAM5[Resource::${logicalArn(props.workBucket)}/sessions/*]`, "Session audio parts are keyed per session (sessions/<id>/part-N.flac): object actions only under that prefix.");
    ack(`AwsSolutions-IAM5[Resource::${logicalArn(props.inputBucket)}/realtime/*]`, "Finished sessions are submitted as realtime/<id>.flac: PutObject only under that prefix.");
    ack("AwsSolutions-IAM5[Resource::*]", "Required by AWS: ecr:GetAuthorizationToken (image pull) and cloudwatch:PutMetricData (session metric) have no resource-level permissions.");
    if (!props.accessLogsBucket) ack("AwsSolutions-ELB2", "No access-log bucket was given to the construct; the stack passes its own.");
  }
}
