/**
 * The ground-truth provider in its own process: its work (decoding each
 * upload, finding it in the known recordings) stands in for a remote
 * service, so it must not run on the pipeline's event loop and delay it.
 */
import { buildConversation, type ConversationSpec } from "../test/audio/conversation.js";
import type { ProviderOptions } from "../test/provider/options.js";
import { startGroundTruthProvider } from "../test/provider/server.js";
import { childArgs, fatal, serve } from "./lib/child.js";

export interface ProviderChildArgs {
  recordings: ConversationSpec[];
  options: Partial<ProviderOptions>;
}

export interface ProviderChildReady {
  url: string;
  apiKey: string;
  /** True word count of each recording, in the order given. */
  words: number[];
}

async function main(): Promise<void> {
  const args = childArgs<ProviderChildArgs>();
  const recordings = args.recordings.map(buildConversation);
  const provider = await startGroundTruthProvider({ ...args.options, recordings });
  serve(
    {
      configure: (options: Partial<ProviderOptions>) => provider.configure(options),
      stats: () => provider.stats(),
      resetStats: () => provider.resetStats(),
    },
    { url: provider.url, apiKey: provider.apiKey, words: recordings.map((r) => r.words.length) } satisfies ProviderChildReady,
  );
}

main().catch(fatal);
