/** The gateway's CDK construct, synthesized beside stand-ins for the pipeline's bucket, table and secret. */
import { describe, expect, it } from "vitest";
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as kms from "aws-cdk-lib/aws-kms";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { RealtimeGateway } from "../../infra/realtime/realtime-gateway.js";

function synth(): Template {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [], "aws:cdk:disable-asset-staging": true } });
  const stack = new Stack(app, "Rt", { env: { account: "111111111111", region: "us-east-1" } });
  const key = new kms.Key(stack, "Key");
  new RealtimeGateway(stack, "Realtime", {
    inputBucket: new s3.Bucket(stack, "Input"),
    workBucket: new s3.Bucket(stack, "Work"),
    table: new dynamodb.Table(stack, "Jobs", { partitionKey: { name: "pk", type: dynamodb.AttributeType.STRING } }),
    key,
    providerSecret: new secretsmanager.Secret(stack, "Provider"),
    providerBaseUrl: "https://api.together.xyz/v1",
    model: "openai/whisper-large-v3",
    certificate: acm.Certificate.fromCertificateArn(stack, "Cert", "arn:aws:acm:us-east-1:111111111111:certificate/abc"),
  });
  return Template.fromStack(stack);
}

describe("realtime gateway construct", () => {
  const template = synth();

  it("serves wss:// through an ALB that keeps WebSockets open for an hour", () => {
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", { Protocol: "HTTPS", Port: 443 });
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::LoadBalancer", {
      LoadBalancerAttributes: Match.arrayWith([{ Key: "idle_timeout.timeout_seconds", Value: "3600" }]),
    });
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::TargetGroup", { HealthCheckPath: "/healthz" });
  });

  it("scales on live sessions per task", () => {
    template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalingPolicy", {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        CustomizedMetricSpecification: Match.objectLike({
          MetricName: "ActiveSessions",
          Namespace: "stt/realtime",
          // The dimension Powertools Metrics publishes with (realtime/gateway-metrics.ts).
          Dimensions: [Match.objectLike({ Name: "service" })],
        }),
        TargetValue: 50,
      }),
    });
  });

  it("passes secrets by ARN only and gives the task exactly its table actions", () => {
    const defs = template.findResources("AWS::ECS::TaskDefinition");
    const env = Object.values(defs)[0].Properties.ContainerDefinitions[0].Environment as Array<{ Name: string }>;
    const names = env.map((e) => e.Name);
    expect(names).toEqual(expect.arrayContaining(["STT_API_KEY_SECRET_ARN", "STT_GATEWAY_KEYS_SECRET_ARN", "STT_TABLE", "STT_INPUT_BUCKET", "STT_WORK_BUCKET"]));
    expect(names).not.toContain("STT_API_KEY");
    template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:Query"] })]) },
    });
  });
});
