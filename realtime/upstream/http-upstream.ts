/**
 * Live transcription through the provider's HTTP API, for providers without a realtime endpoint (any
 * OpenAI-compatible server, the ground-truth test provider): the gateway's VAD cuts utterances, each one
 * is sent as a short WAV through the same ProviderClient the batch transcriber uses, and while an
 * utterance grows its audio so far is transcribed at a bounded rate to produce deltas.
 */
import { PcmWindow } from "../../shared/audio/pcm-window.js";
import type { ProviderClient } from "../../shared/provider/client.js";
import { PipelineError, reasonOf } from "../../shared/errors.js";
import { SAMPLE_RATE, type ProtocolProblem } from "../protocol.js";
import { EnergyVad, type VoiceDetector } from "../vad.js";
import { wavBytes } from "../../shared/audio/wav.js";
import type { ItemIds, LiveSettings, LiveUsage, Upstream, UpstreamListener } from "./types.js";

export interface HttpUpstreamOptions {
  provider: ProviderClient;
  /** Partial transcripts: one request at a time per session, at most one per interval. */
  deltaIntervalMs: number;
  /** New audio needed since the last partial before another is asked for. */
  deltaMinNewAudioMs: number;
  /** An utterance longer than this is cut where it stands (a monologue without pauses). */
  maxUtteranceSeconds: number;
  /** Final transcriptions in flight per session. */
  maxConcurrent: number;
  /** The first sample this upstream sees, in session samples (non-zero when it takes over from a lost relay). */
  startSample?: number;
  detector?: () => VoiceDetector;
}

/** Whisper-class models hallucinate on less: shorter commits are refused as the protocol's "buffer too small". */
const MIN_UTTERANCE_SAMPLES = SAMPLE_RATE / 10;
const MIN_DELTA_AUDIO_SAMPLES = SAMPLE_RATE;
/** Audio kept while nobody speaks: VAD places a start up to its padding plus its onset window back. */
const IDLE_KEEP_SAMPLES = 2 * SAMPLE_RATE;

interface OpenItem {
  id: string;
  start: number;
  lastDeltaAt: number;
  lastDeltaSample: number;
  deltaInFlight: boolean;
}

export class HttpUpstream implements Upstream {
  readonly kind = "http" as const;
  private readonly window = new PcmWindow();
  private vad: VoiceDetector | null;
  private item: OpenItem | undefined;
  private manualStart: number;
  private ordered: Promise<void> = Promise.resolve();
  private running = 0;
  private waiting: Array<() => void> = [];
  private closed = false;
  private readonly spent: LiveUsage = { audioSecondsBilled: 0, requests: 0, partialRequests: 0 };

  constructor(
    private settings: LiveSettings,
    private readonly listener: UpstreamListener,
    private readonly ids: ItemIds,
    private readonly options: HttpUpstreamOptions,
  ) {
    // The window and the detector count from their own first sample; these say which session sample that is.
    this.offset = options.startSample ?? 0;
    this.manualStart = this.offset;
    this.vadBase = this.offset;
    this.vad = settings.vad ? this.newDetector() : null;
  }

  /** Session sample of the window's sample 0. */
  private readonly offset: number;
  /** Session sample of the detector's sample 0 (it is restarted after a commit). */
  private vadBase: number;

  private get end(): number {
    return this.offset + this.window.endSample;
  }

  private newDetector(): VoiceDetector {
    this.vadBase = this.end;
    const detector = this.options.detector?.() ?? new EnergyVad();
    if (this.settings.vad) detector.update(this.settings.vad);
    return detector;
  }

  usage(): LiveUsage {
    return { ...this.spent };
  }

  append(samples: Int16Array): void {
    if (this.closed || samples.length === 0) return;
    this.window.append(Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
    if (this.vad) {
      for (const event of this.vad.push(samples)) {
        const at = this.vadBase + event.sample;
        if (event.type === "speech_started" && !this.item) this.startItem(at, true);
        else if (event.type === "speech_stopped" && this.item) this.finishItem(Math.max(at, this.item.start + 1), true);
      }
      if (this.item && this.end - this.item.start > this.options.maxUtteranceSeconds * SAMPLE_RATE) {
        const cut = this.end;
        this.finishItem(cut, true);
        this.startItem(cut, true);
      }
    } else if (!this.item) {
      this.startItem(this.manualStart, false);
    }
    this.maybeDelta();
    const keepFrom = this.item ? this.item.start : this.end - IDLE_KEEP_SAMPLES;
    this.window.dropBefore(keepFrom - this.offset);
  }

  commit(): ProtocolProblem | undefined {
    const item = this.item;
    if (!item || this.end - item.start < MIN_UTTERANCE_SAMPLES) {
      return {
        code: "input_audio_buffer_commit_empty",
        message: "input_audio_buffer.commit: nothing to commit: the buffer holds less than 100 ms of audio that was not already transcribed",
      };
    }
    // The detector may be mid-utterance: start it afresh so its end is not reported for a committed item.
    if (this.vad) this.vad = this.newDetector();
    this.finishItem(this.end, Boolean(this.settings.vad));
    this.manualStart = this.end;
    return undefined;
  }

  clear(): void {
    this.item = undefined;
    this.manualStart = this.end;
    if (this.vad) this.vad = this.newDetector();
  }

  configure(settings: LiveSettings): void {
    const hadVad = Boolean(this.settings.vad);
    this.settings = settings;
    if (settings.vad && !hadVad) {
      // A manual buffer in progress becomes an utterance the detector may end.
      this.vad = this.newDetector();
    } else if (!settings.vad && hadVad) {
      this.vad = null;
      if (!this.item) this.manualStart = this.end;
    } else if (settings.vad && this.vad) {
      this.vad.update(settings.vad);
    }
  }

  async drain(timeoutMs: number): Promise<void> {
    if (this.item && this.end - this.item.start >= MIN_UTTERANCE_SAMPLES) this.finishItem(this.end, Boolean(this.vad));
    this.item = undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.ordered, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    this.closed = true;
  }

  close(): void {
    this.closed = true;
    this.item = undefined;
  }

  private startItem(start: number, announce: boolean): void {
    const id = this.ids.next();
    this.item = { id, start, lastDeltaAt: 0, lastDeltaSample: start, deltaInFlight: false };
    if (announce) this.listener.speechStarted(id, start / SAMPLE_RATE);
  }

  private finishItem(endSample: number, announce: boolean): void {
    const item = this.item;
    if (!item) return;
    this.item = undefined;
    const start = item.start;
    const end = Math.max(endSample, start);
    if (announce) this.listener.speechStopped(item.id, end / SAMPLE_RATE);
    this.listener.committed(item.id);
    const pcm = this.window.slice(start - this.offset, end - this.offset);
    const result = this.limited(() => this.transcribe(pcm, start));
    this.ordered = this.ordered.then(async () => {
      const outcome = await result;
      if (this.closed) return;
      const times = { start: start / SAMPLE_RATE, end: end / SAMPLE_RATE };
      if ("error" in outcome) this.listener.failed(item.id, { ...times, code: outcome.code, message: outcome.error });
      else this.listener.completed(item.id, { ...times, ...outcome });
    });
  }

  private maybeDelta(): void {
    const item = this.item;
    if (!item || item.deltaInFlight || this.closed) return;
    const now = Date.now();
    const end = this.end;
    if (end - item.start < MIN_DELTA_AUDIO_SAMPLES) return;
    if (now - item.lastDeltaAt < this.options.deltaIntervalMs) return;
    if (end - item.lastDeltaSample < (this.options.deltaMinNewAudioMs * SAMPLE_RATE) / 1000) return;
    item.deltaInFlight = true;
    item.lastDeltaAt = now;
    item.lastDeltaSample = end;
    const pcm = this.window.slice(item.start - this.offset, end - this.offset);
    this.spent.partialRequests++;
    void this.transcribe(pcm, item.start).then((outcome) => {
      item.deltaInFlight = false;
      // A partial that arrives after its utterance ended is stale: the completed text replaces it.
      if (this.closed || this.item !== item || "error" in outcome || !outcome.transcript) return;
      this.listener.delta(item.id, outcome.transcript);
    });
  }

  private async transcribe(
    pcm: Buffer,
    startSample: number,
  ): Promise<{ transcript: string; words?: Array<{ word: string; start: number; end: number }>; language?: string } | { error: string; code: string }> {
    const seconds = pcm.length / 2 / SAMPLE_RATE;
    this.spent.audioSecondsBilled += seconds;
    this.spent.requests++;
    try {
      const result = await this.options.provider.transcribe({
        audio: wavBytes(pcm),
        filename: "utterance.wav",
        audioSeconds: seconds,
        model: this.settings.model,
        task: "transcribe",
        language: this.settings.language,
        prompt: this.settings.prompt,
        // Speakers come from the batch job over the whole session, where labels are consistent.
        diarize: false,
      });
      const offset = startSample / SAMPLE_RATE;
      const round = (x: number) => Math.round((x + offset) * 1000) / 1000;
      return {
        transcript: result.text.trim(),
        words: result.words?.map((w) => ({ word: w.word, start: round(w.start), end: round(w.end) })),
        language: result.language,
      };
    } catch (error) {
      return { error: reasonOf(error), code: error instanceof PipelineError ? error.code : "provider_error" };
    }
  }

  private async limited<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.options.maxConcurrent) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
