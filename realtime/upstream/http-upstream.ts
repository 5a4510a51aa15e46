/**
 * Live transcription through the provider's HTTP API, for providers without a realtime endpoint (any
 * OpenAI-compatible server, the ground-truth test provider): the gateway's VAD cuts utterances, and each
 * utterance is sent as short WAV pieces through the same ProviderClient the batch transcriber uses.
 *
 * With partials on (the default), an open utterance is cut at pauses into pieces of 1-1.5 s (see
 * live-pieces.ts); each piece is transcribed once, its text is the next delta, and the completed
 * transcript is the pieces' texts in order: the live text bills each second of audio once. With partials
 * off, each utterance is one request when it ends (no deltas; the model hears the whole utterance).
 */
import pLimit, { type LimitFunction } from "p-limit";
import { PcmWindow } from "../../shared/audio/pcm-window.js";
import type { ProviderClient } from "../../shared/provider/client.js";
import { PipelineError, reasonOf } from "../../shared/errors.js";
import { SAMPLE_RATE, type ProtocolProblem, type Word } from "../protocol.js";
import { EnergyVad, type VoiceDetector } from "../vad.js";
import { wavBytes } from "../../shared/audio/wav.js";
import { FRAME_SAMPLES, frameLevels, holdsSpeech, joinPieces, pieceCut, type HeardPiece, type PieceRules } from "./live-pieces.js";
import type { ItemIds, LiveSettings, LiveUsage, Upstream, UpstreamListener } from "./types.js";

export type PartialsMode = "pieces" | "off";
export const PARTIALS_MODES: readonly PartialsMode[] = ["pieces", "off"];

export interface HttpUpstreamOptions {
  provider: ProviderClient;
  /** `pieces`: deltas from pieces cut at pauses, each billed once; `off`: one request per utterance, no deltas. */
  partials: PartialsMode;
  pieces: PieceRules;
  /** An utterance longer than this is cut where it stands (a monologue without pauses). */
  maxUtteranceSeconds: number;
  /** Provider requests in flight per session. */
  maxConcurrent: number;
  /** The first sample this upstream sees, in session samples (non-zero when it takes over from a lost relay). */
  startSample?: number;
  detector?: () => VoiceDetector;
}

/** Whisper-class models hallucinate on less: shorter commits are refused as the protocol's "buffer too small". */
const MIN_UTTERANCE_SAMPLES = SAMPLE_RATE / 10;
/** Audio kept while nobody speaks: VAD places a start up to its padding plus its onset window back. */
const IDLE_KEEP_SAMPLES = 2 * SAMPLE_RATE;
/** Text already heard, passed as the prompt of the next piece: Whisper reads at most 224 tokens of it. */
const CONTEXT_CHARACTERS = 200;

interface PieceText {
  transcript: string;
  words?: Word[];
  language?: string;
}
type PieceOutcome = PieceText | { error: string; code: string };

interface Piece {
  start: number;
  end: number;
  /** The piece ended at a forced cut, not in a pause (see joinPieces). */
  cutInSpeech: boolean;
  outcome: Promise<PieceOutcome>;
}


interface OpenItem {
  id: string;
  start: number;
  /** Where the piece being heard now starts (session samples). */
  pieceStart: number;
  pieces: Piece[];
  /** Loudest frame heard in the utterance so far (dBFS): what "speech" in a trailing piece is measured against. */
  peakDb: number;
  /** The pieces that came back, in order. */
  heard: HeardPiece[];
  lastDelta?: string;
  /** Resolves when every piece's text so far has been handled in order. */
  inOrder: Promise<void>;
}

export class HttpUpstream implements Upstream {
  readonly kind = "http" as const;
  private readonly window = new PcmWindow();
  private vad: VoiceDetector | null;
  private item: OpenItem | undefined;
  private manualStart: number;
  private ordered: Promise<void> = Promise.resolve();
  /** Holds this session's provider requests to `maxConcurrent`; the rest wait in the order they were cut. */
  private readonly limited: LimitFunction;
  private closed = false;
  /** The text heard last in this session, passed as context to the next utterance's first piece. */
  private context = "";
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
    this.limited = pLimit(options.maxConcurrent);
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
    this.maybeCutPiece();
    // Pieces hold their own audio; the window keeps what is not yet in one.
    const keepFrom = this.item ? this.item.pieceStart : this.end - IDLE_KEEP_SAMPLES;
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
    this.item = { id, start, pieceStart: start, pieces: [], peakDb: -Infinity, heard: [], inOrder: Promise.resolve() };
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
    if (item.pieces.length === 0) {
      // An utterance too short for a model (the tail of a turn cut at maxUtteranceSeconds just before the VAD
      // heard it end) completes empty rather than as a provider's "audio too short" failure.
      if (end - start >= MIN_UTTERANCE_SAMPLES) this.sendPiece(item, start, end, false, false);
    } else if (end > item.pieceStart) {
      // What follows the last cut: sent unless it is only the quiet before the VAD's end (a model writes
      // something for silence, "Thank you." as often as not).
      const levels = frameLevels(this.pcmOf(item.pieceStart, end));
      if (holdsSpeech(levels, Math.max(item.peakDb, ...levels))) this.sendPiece(item, item.pieceStart, end, false, false);
    }
    const pieces = item.pieces;
    this.ordered = this.ordered.then(async () => {
      const outcomes = await Promise.all(pieces.map((piece) => piece.outcome));
      if (this.closed) return;
      const times = { start: start / SAMPLE_RATE, end: end / SAMPLE_RATE };
      const failure = outcomes.find((outcome) => "error" in outcome);
      if (failure && "error" in failure) return this.listener.failed(item.id, { ...times, code: failure.code, message: failure.error });
      const texts = outcomes as PieceText[];
      const { transcript, words } = joinPieces(texts.map((text, i) => heardPiece(pieces[i], text)));
      this.context = transcript || this.context;
      this.listener.completed(item.id, { ...times, transcript, words, language: texts.find((t) => t.language)?.language });
    });
  }

  /** Cuts the open utterance's next piece when its audio so far ends at a pause (or has grown long enough). */
  private maybeCutPiece(): void {
    const item = this.item;
    if (!item || this.closed || this.options.partials === "off") return;
    const levels = frameLevels(this.pcmOf(item.pieceStart, this.end));
    const cut = pieceCut(levels, this.options.pieces);
    if (cut === undefined) return;
    for (let f = 0; f < cut.frame; f++) item.peakDb = Math.max(item.peakDb, levels[f]);
    const cutSample = item.pieceStart + cut.frame * FRAME_SAMPLES;
    this.sendPiece(item, item.pieceStart, cutSample, true, !cut.atPause);
    item.pieceStart = cutSample;
  }

  private sendPiece(item: OpenItem, start: number, end: number, partial: boolean, cutInSpeech: boolean): void {
    if (partial) this.spent.partialRequests++;
    const pcm = this.window.slice(start - this.offset, end - this.offset);
    const context = item.heard.length ? joinPieces(item.heard).transcript : this.context;
    const outcome = this.limited(() => this.transcribe(pcm, start, context));
    const piece: Piece = { start, end, cutInSpeech, outcome };
    item.pieces.push(piece);
    if (!partial) return;
    item.inOrder = item.inOrder.then(async () => {
      const heard = await outcome;
      if ("error" in heard) return;
      item.heard.push(heardPiece(piece, heard));
      const text = joinPieces(item.heard).transcript;
      // A delta for an utterance that has ended is stale: its completed text is on the way.
      if (text && text !== item.lastDelta && !this.closed && this.item === item) {
        item.lastDelta = text;
        this.listener.delta(item.id, text);
      }
    });
  }

  private pcmOf(from: number, to: number): Int16Array {
    const bytes = this.window.slice(from - this.offset, to - this.offset);
    return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  }

  private async transcribe(pcm: Buffer, startSample: number, context: string): Promise<PieceOutcome> {
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
        prompt: promptWith(this.settings.prompt, context),
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
}

function heardPiece(piece: Piece, text: PieceText): HeardPiece {
  return { transcript: text.transcript, words: text.words, end: piece.end / SAMPLE_RATE, cutInSpeech: piece.cutInSpeech };
}

/**
 * The client's prompt, then the end of what was heard before this piece: a model continues a sentence it
 * was shown rather than starting a new one at every cut (OpenAI's guide to prompting Whisper).
 */
function promptWith(prompt: string | undefined, context: string): string | undefined {
  const tail = context.length > CONTEXT_CHARACTERS ? context.slice(context.indexOf(" ", context.length - CONTEXT_CHARACTERS) + 1) : context;
  return [prompt, tail].filter(Boolean).join(" ") || undefined;
}
