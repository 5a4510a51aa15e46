/**
 * Server-side voice activity detection for the HTTP upstream: where an utterance starts and where the
 * speaker stopped long enough for it to end.
 *
 * An energy detector against an adaptive noise floor, with zero-crossing rate to keep unvoiced consonants
 * ("s", "f", "th") inside words, an onset rule against clicks, and a hangover (silence_duration_ms) before
 * an utterance ends. Silero in ONNX was measured against it (docs/realtime.md): on this project's audio it
 * found the same turn boundaries, but its npm packages bring onnxruntime-node (290 MB, a postinstall that
 * downloads CUDA libraries from outside the npm registry) for a decision a 20 ms energy frame makes as well
 * on close-talk audio. The detector sits behind `VoiceDetector`, so a model-based one can replace it.
 */
import { SAMPLE_RATE } from "./protocol.js";

export interface VadSettings {
  /** 0..1 as in the protocol's turn_detection.threshold: higher needs louder speech over the noise floor. */
  threshold: number;
  /** Audio kept before the first speech frame, so the first syllable's attack is not cut. */
  prefixPaddingMs: number;
  /** Silence that ends an utterance. */
  silenceDurationMs: number;
}

export const DEFAULT_VAD: VadSettings = { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 500 };

export type VadEvent =
  | { type: "speech_started"; /** First sample of the utterance, padding included. */ sample: number }
  | { type: "speech_stopped"; /** One past the utterance's last sample (a short tail after the last speech frame). */ sample: number };

export interface VoiceDetector {
  /** Consumes the next samples of the stream; returns what they decided, in order. */
  push(samples: Int16Array): VadEvent[];
  /** The stream ended (or the client committed): closes an open utterance at the last sample seen. */
  flush(): VadEvent[];
  readonly speaking: boolean;
  update(settings: Partial<VadSettings>): void;
}

const FRAME_MS = 20;
const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000;
/** Speech frames needed within the onset window before an utterance starts: a click or a cough is shorter. */
const ONSET_FRAMES = 3;
const ONSET_WINDOW = 5;
/** After the last speech frame the utterance keeps this much tail, so a trailing consonant's decay is heard. */
const TAIL_MS = 120;
/** Frames over which the noise floor is the minimum: longer than any stretch of speech without a pause. */
const FLOOR_WINDOW_FRAMES = 150;
/** Quietest floor considered: digital silence would otherwise make any dither "speech". */
const FLOOR_MIN_DB = -72;
/** Speech is never quieter than this, whatever the noise floor (a -65 dBFS hum is not a voice). */
const SPEECH_MIN_DB = -55;

export class EnergyVad implements VoiceDetector {
  private settings: VadSettings;
  private sample = 0;
  private carry = new Int16Array(0);
  /** Recent frame energies: the noise floor is their minimum (minimum statistics), speech or not. */
  private history: number[] = [];
  private inSpeech = false;
  private silentFrames = 0;
  private lastSpeechEnd = 0;
  private recent: boolean[] = [];
  /** Where the previous utterance ended: the next one's padding never reaches back into it. */
  private previousEnd = 0;

  constructor(settings: Partial<VadSettings> = {}) {
    this.settings = { ...DEFAULT_VAD, ...settings };
  }

  get speaking(): boolean {
    return this.inSpeech;
  }

  update(settings: Partial<VadSettings>): void {
    this.settings = { ...this.settings, ...settings };
  }

  push(samples: Int16Array): VadEvent[] {
    const events: VadEvent[] = [];
    let data = samples;
    if (this.carry.length) {
      data = new Int16Array(this.carry.length + samples.length);
      data.set(this.carry);
      data.set(samples, this.carry.length);
    }
    let offset = 0;
    for (; offset + FRAME_SAMPLES <= data.length; offset += FRAME_SAMPLES) {
      this.frame(data.subarray(offset, offset + FRAME_SAMPLES), events);
      this.sample += FRAME_SAMPLES;
    }
    this.carry = data.slice(offset);
    return events;
  }

  flush(): VadEvent[] {
    const end = this.sample + this.carry.length;
    this.carry = new Int16Array(0);
    this.sample = end;
    if (!this.inSpeech) return [];
    this.inSpeech = false;
    this.recent = [];
    this.previousEnd = Math.min(end, this.lastSpeechEnd + ms(TAIL_MS));
    return [{ type: "speech_stopped", sample: this.previousEnd }];
  }

  private frame(frame: Int16Array, events: VadEvent[]): void {
    let sumSquares = 0;
    let crossings = 0;
    for (let i = 0; i < frame.length; i++) {
      sumSquares += frame[i] * frame[i];
      if (i > 0 && (frame[i] >= 0) !== (frame[i - 1] >= 0)) crossings++;
    }
    const db = 10 * Math.log10(sumSquares / frame.length / (32768 * 32768) + 1e-12);
    const zcr = crossings / frame.length;
    this.history.push(db);
    if (this.history.length > FLOOR_WINDOW_FRAMES) this.history.shift();
    // Pauses between words reach the floor every second or two, so the window's minimum is the noise,
    // whether it is digital silence, hiss, or a fan that just started.
    const floor = Math.max(Math.min(...this.history) + 3, FLOOR_MIN_DB);
    // threshold 0.5 -> 15 dB over the floor; 0 -> 6 dB, 1 -> 24 dB.
    const margin = 6 + 18 * this.settings.threshold;
    const loud = db > Math.max(floor + margin, SPEECH_MIN_DB);
    // Fricatives: noise-like (high crossing rate) and well above the floor, though quieter than vowels.
    const hiss = zcr > 0.3 && db > Math.max(floor + margin / 2, SPEECH_MIN_DB - 6);
    const isSpeech = loud || (this.inSpeech && hiss);

    const frameStart = this.sample;
    const frameEnd = frameStart + frame.length;
    if (this.inSpeech) {
      if (isSpeech) {
        this.silentFrames = 0;
        this.lastSpeechEnd = frameEnd;
      } else if (++this.silentFrames * FRAME_MS >= this.settings.silenceDurationMs) {
        this.inSpeech = false;
        this.recent = [];
        this.previousEnd = Math.min(frameEnd, this.lastSpeechEnd + ms(TAIL_MS));
        events.push({ type: "speech_stopped", sample: this.previousEnd });
      }
      return;
    }
    this.recent.push(isSpeech);
    if (this.recent.length > ONSET_WINDOW) this.recent.shift();
    if (this.recent.filter(Boolean).length >= ONSET_FRAMES) {
      const firstSpeech = frameEnd - this.recent.length * FRAME_SAMPLES + this.recent.indexOf(true) * FRAME_SAMPLES;
      this.inSpeech = true;
      this.silentFrames = 0;
      this.lastSpeechEnd = frameEnd;
      events.push({ type: "speech_started", sample: Math.max(this.previousEnd, firstSpeech - ms(this.settings.prefixPaddingMs)) });
    }
  }
}

function ms(milliseconds: number): number {
  return Math.round((milliseconds * SAMPLE_RATE) / 1000);
}
