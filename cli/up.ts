import { setTimeout as sleep } from "node:timers/promises";
import { Logger } from "@aws-lambda-powertools/logger";
import { wiring } from "../shared/wiring.js";
import { MISSING_KEY_MESSAGE, providerFromEnv } from "./provider-env.js";
import {
  describeStack,
  findRunningStack,
  removeStackFile,
  startEmbeddedStack,
  tryLockStateDir,
  unlockStateDir,
  writeStackFile,
  STATE_DIR,
} from "./stack-session.js";
import { startLocalRealtime } from "./stream.js";
import { renameSpeaker } from "../shared/pipeline/rename-speaker.js";
import { DEFAULT_VIEWER_PORT, s3ViewerObjects, startViewerServer } from "../local/viewer-server.js";

/** `stt up`: the local stack in the foreground, for dropping files and querying by hand with the AWS CLI. */
export async function runUp(ports: { awsPort: number; dynamodbPort: number; realtimePort?: number; viewerPort?: number }): Promise<number> {
  const provider = providerFromEnv();
  if (!provider) {
    process.stderr.write(`${MISSING_KEY_MESSAGE}\n`);
    return 2;
  }
  // Only one process opens the state folder's dynalite files: the one holding its lock (see stack-session.ts).
  // A command that holds it briefly (`stt status`) is waited for.
  for (const since = Date.now(); ; await sleep(200)) {
    const running = await findRunningStack();
    if (running) {
      process.stderr.write(`a local stack is already running (${describeStack(running)}) at ${running.awsEndpoint}\n`);
      return 1;
    }
    const lock = tryLockStateDir();
    if (lock.locked) break;
    if (Date.now() - since > 10_000) {
      process.stderr.write(`${STATE_DIR} is in use by pid ${lock.holder}; try again when it ends\n`);
      return 1;
    }
  }
  process.once("exit", unlockStateDir);
  const stack = await startEmbeddedStack({
    provider,
    awsPort: ports.awsPort,
    dynamodbPort: ports.dynamodbPort,
    log: new Logger({ serviceName: "stt-local", logLevel: (process.env.STT_LOG_LEVEL as "INFO") ?? "WARN" }),
  });
  const { emulators, resources } = stack;
  const realtime = await startLocalRealtime(stack, ports.realtimePort);
  const viewerPort = ports.viewerPort ?? DEFAULT_VIEWER_PORT;
  const viewer = await startViewerServer({
    jobs: stack.ctx.jobs,
    objects: s3ViewerObjects(stack.clients.s3),
    outputBucket: resources.buckets.output,
    renameSpeaker: (jobId, speakerId, name) => renameSpeaker(stack.ctx, jobId, speakerId, name),
    port: viewerPort,
    log: stack.ctx.log,
  }).catch(async (error: NodeJS.ErrnoException) => {
    await realtime.gateway.close();
    await stack.stop();
    unlockStateDir();
    if (error.code === "EADDRINUSE") throw new Error(`port ${viewerPort} is in use: give the viewer another with --viewer-port`);
    throw error;
  });
  writeStackFile({
    pid: process.pid,
    owner: "up",
    provider: { baseUrl: provider.baseUrl, model: provider.model },
    awsEndpoint: emulators.awsEndpoint,
    dynamodbEndpoint: emulators.dynamodbEndpoint,
    realtimeUrl: realtime.gateway.url,
    viewerUrl: viewer.url,
    resources,
  });
  const lines = [
    `local stack running (provider ${provider.baseUrl}, model ${provider.model}, segments sized for ${wiring.provider.maxInFlight} requests in flight)`,
    `  S3 / SQS / SNS (fauxqs): ${emulators.awsEndpoint}`,
    `  DynamoDB (dynalite):     ${emulators.dynamodbEndpoint}`,
    `  input bucket:  s3://${resources.buckets.input}`,
    `  output bucket: s3://${resources.buckets.output}`,
    `  jobs table:    ${resources.table}`,
    `  topic:         ${resources.topicArn}`,
    `  realtime gateway: ${realtime.gateway.url} (${realtime.keyHint}; upstream ${realtime.mode})`,
    `  transcript viewer: ${viewer.url}/ (a job's page: npx stt open <jobId>)`,
    `drop a file:  aws --endpoint-url ${emulators.awsEndpoint} s3 cp meeting.mp3 s3://${resources.buckets.input}/meeting.mp3 --metadata language=en,max-speakers=4`,
    `Ctrl-C to stop`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  process.stdout.write("stopping...\n");
  await viewer.close();
  await realtime.gateway.close();
  removeStackFile();
  await stack.stop();
  unlockStateDir();
  return 0;
}
