/**
 * The ground-truth provider for the realtime benchmark, in its own process (its decoding and audio
 * search stand in for a remote service and must not run on the gateway's event loop), knowing every
 * session's conversation; with `realtime`, also its Together-style realtime endpoint
 * (test/provider-realtime) in front of it, for the relay upstream.
 *
 * Each upload the provider locates is also placed exactly (bench/lib/exact-placement.ts: the gateway
 * sends its clients' samples unchanged), and where the provider's locator heard other words than that
 * placement holds (or the same words at other times), the upload is noted as misplaced: a word lost there is the stand-in's, not the gateway's.
 */
import { buildConversation, type ConversationSpec } from "../test/audio/conversation.js";
import { seededRandom } from "../test/audio/seeded-random.js";
import { hearWords } from "../test/provider/hear-words.js";
import { AudioLocator, type LocatedPiece } from "../test/provider/locator.js";
import { DEFAULT_OPTIONS, type ProviderOptions } from "../test/provider/options.js";
import { startGroundTruthProvider } from "../test/provider/server.js";
import { startRealtimeProvider } from "../test/provider-realtime/server.js";
import { childArgs, fatal, serve } from "./lib/child.js";
import { ExactPlacer } from "./lib/exact-placement.js";

export interface RealtimeProviderChildArgs {
  recordings: ConversationSpec[];
  options: Partial<ProviderOptions>;
  realtime: boolean;
}

export interface RealtimeProviderChildReady {
  url: string;
  apiKey: string;
  /** The realtime endpoint (ws://.../v1/realtime) when asked for. */
  realtimeUrl?: string;
}

/** An upload whose words, as the provider's locator placed it, differ from those where its samples really are. */
export interface MisplacedUpload {
  /** Where the upload's samples really are (seconds in that recording): usually one place, sometimes more. */
  placements: Array<{ recordingId: string; start: number; end: number }>;
  heard: string;
  truth: string;
}

export interface LocatorAudit {
  /** Time the audit itself took in this process (exact placement, hearing twice), ms: not the provider's work. */
  auditMs: number;
  uploads: number;
  /** Uploads found sample for sample in a known recording. */
  placed: number;
  misplaced: MisplacedUpload[];
}

const SAMPLE_RATE = 16000;
/** Seconds: a located piece off by more than this is on another stretch of audio, not a refinement away. */
const WORD_TIME_SLACK = 0.1;

async function main(): Promise<void> {
  const args = childArgs<RealtimeProviderChildArgs>();
  const recordings = args.recordings.map(buildConversation);
  const placer = new ExactPlacer();
  for (const recording of recordings) placer.add(recording);
  let audit: LocatorAudit = { auditMs: 0, uploads: 0, placed: 0, misplaced: [] };
  const wordsOf = (pieces: LocatedPiece[], samples: number) =>
    // Realism off, as the benchmark runs the provider: what the edge rule keeps, nothing drawn at random.
    hearWords(pieces, samples / SAMPLE_RATE, DEFAULT_OPTIONS, seededRandom(0));
  const text = (words: Array<{ word: string }>) => words.map((w) => w.word).join(" ");
  // The same words, each where it really is: a piece put on the same word said elsewhere moves its time.
  const same = (a: Array<{ word: string; start: number }>, b: Array<{ word: string; start: number }>) =>
    a.length === b.length && a.every((w, i) => w.word === b[i].word && Math.abs(w.start - b[i].start) <= WORD_TIME_SLACK);
  const locate = AudioLocator.prototype.locate;
  AudioLocator.prototype.locate = function (this: AudioLocator, upload: Int16Array): LocatedPiece[] {
    const pieces = locate.call(this, upload);
    const started = performance.now();
    audit.uploads++;
    const truth = placer.place(upload);
    if (truth.length > 0) {
      audit.placed++;
      const heard = wordsOf(pieces, upload.length);
      // Identical samples hold identical clips: every placement has the same words at the same times.
      const expected = wordsOf([{ recording: truth[0].recording, uploadStart: 0, uploadEnd: upload.length, offset: truth[0].start }], upload.length);
      if (!same(heard, expected)) {
        audit.misplaced.push({
          placements: truth.map((p) => ({ recordingId: p.recording.id, start: p.start / SAMPLE_RATE, end: (p.start + upload.length) / SAMPLE_RATE })),
          heard: text(heard),
          truth: text(expected),
        });
      }
    }
    audit.auditMs += performance.now() - started;
    return pieces;
  };

  const provider = await startGroundTruthProvider({ ...args.options, recordings });
  const relay = args.realtime ? await startRealtimeProvider(provider) : undefined;
  serve(
    {
      stats: () => provider.stats(),
      resetStats: () => {
        provider.resetStats();
        audit = { auditMs: 0, uploads: 0, placed: 0, misplaced: [] };
      },
      audit: () => audit,
      relayStats: () => relay?.stats() ?? null,
    },
    { url: provider.url, apiKey: provider.apiKey, realtimeUrl: relay?.realtimeUrl } satisfies RealtimeProviderChildReady,
  );
}

main().catch(fatal);
