/**
 * fauxqs and dynalite in their own process, with the pipeline's resources
 * created: fauxqs keeps every object in memory, so a chunker measured in the
 * same process would be charged for the whole uploaded recording.
 */
import { createClients } from "../shared/clients.js";
import { startEmulators } from "../local/emulators.js";
import { createResources, localDynamo, type LocalResources } from "../local/resources.js";
import { childArgs, fatal, serve } from "./lib/child.js";

export interface EmulatorsReady {
  endpoints: { aws: string; dynamodb: string };
  resources: LocalResources;
}

async function main(): Promise<void> {
  const { visibilityTimeoutSeconds = 300 } = childArgs<{ visibilityTimeoutSeconds?: number }>();
  const emulators = await startEmulators();
  const endpoints = { aws: emulators.awsEndpoint, dynamodb: emulators.dynamodbEndpoint };
  const clients = createClients(endpoints);
  const rawDynamo = localDynamo(endpoints.dynamodb);
  const resources = await createResources(clients, rawDynamo, { visibilityTimeoutSeconds, maxReceiveCount: 5 });
  serve({ rssMb: () => process.memoryUsage().rss / 2 ** 20 }, { endpoints, resources } satisfies EmulatorsReady);
}

main().catch(fatal);
