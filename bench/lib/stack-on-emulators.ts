/**
 * A LocalStack over emulators that run in another process (bench/emulators-child.ts), with no event
 * sources: the clients, resources, configuration and log that the realtime gateway's local wiring
 * (realtime/local.ts) reads, and no batch pipeline. A session the gateway submits lands in the input
 * bucket and stays there, so the provider sees only the gateway's live requests.
 */
import type { LocalStack } from "../../local/stack.js";
import { quietLog } from "../../local/stack.js";
import { localConfig, type LocalResources } from "../../local/resources.js";
import { EventRunner } from "../../local/runner.js";
import { ffmpegPaths } from "../../shared/audio/ffmpeg.js";
import { createClients } from "../../shared/clients.js";
import { createContext, type Log } from "../../shared/pipeline/context.js";
import { DEFAULTS } from "../../shared/wiring.js";

export interface RunningEmulators {
  endpoints: { aws: string; dynamodb: string };
  resources: LocalResources;
}

export function stackOnEmulators(
  emulators: RunningEmulators,
  provider: { baseUrl: string; apiKey: string; model?: string },
  log: Log = quietLog,
): LocalStack {
  const clients = createClients(emulators.endpoints);
  const config = localConfig(
    emulators.resources,
    { baseUrl: provider.baseUrl, model: provider.model ?? DEFAULTS.model, apiKey: async () => provider.apiKey, timeoutMs: 60_000, maxAttempts: 4 },
    { chunkSeconds: DEFAULTS.chunkSeconds, overlapSeconds: DEFAULTS.overlapSeconds },
  );
  return {
    emulators: {
      awsEndpoint: emulators.endpoints.aws,
      dynamodbEndpoint: emulators.endpoints.dynamodb,
      // Owned by the process that started them.
      stop: async () => undefined,
    },
    resources: emulators.resources,
    clients,
    config,
    ctx: createContext(config, clients, ffmpegPaths(), log),
    // No sources added: nothing polls the buckets or queues.
    runner: new EventRunner(clients, log),
    stop: async () => undefined,
  };
}
