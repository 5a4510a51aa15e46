import { wavBytes } from "../../shared/audio/wav.js";
/**
 * A generated two-channel call with exact truth per channel: the left channel holds one voice's words (the
 * agent's), the right the other's (the caller's), as a call recorder that keeps each side on its own
 * channel writes it. The caller's side is moved earlier by `bargeInSeconds`, so the caller often starts
 * before the agent has finished: cross-talk stretches where both channels speak at once.
 *
 * Each channel is a mono Recording of its own (its samples are exactly what the chunker cuts from that
 * channel), so the ground-truth provider is given the channels, not the call, and hears each channel's
 * segments like any mono upload.
 */
import { buildConversation, type Recording, type TrueWord } from "./conversation.js";
import { SAMPLE_RATE } from "./ffmpeg.js";
import { mixSeed, seededRandom } from "./seeded-random.js";

export interface StereoCallSpec {
  seed: number;
  durationSeconds: number;
  /** How much earlier the caller's side is placed than in the turn-taking plan; default 1.5 s. */
  bargeInSeconds?: number;
  /** A low noise floor in dBFS on each channel (independent noise); default -60. */
  noiseDb?: number;
  /** Voices on each channel; default [1, 1]. The first ones ("S1".."Sn") are on the left. */
  channelVoices?: [number, number];
}

export interface StereoCall {
  id: string;
  duration: number;
  /** channels[n] is channel n's audio and truth (its words' speakers are the conversation's: S1 left, S2 right by default). */
  channels: [Recording, Recording];
  /** Every word of both channels, by start, with the channel it was said on. */
  words: Array<TrueWord & { channel: number }>;
}

export function buildStereoCall(spec: StereoCallSpec): StereoCall {
  const bargeIn = spec.bargeInSeconds ?? 1.5;
  const [leftVoices, rightVoices] = spec.channelVoices ?? [1, 1];
  const voices = leftVoices + rightVoices;
  const conversation = buildConversation({ seed: spec.seed, voices, durationSeconds: spec.durationSeconds, style: "quick-turns" });
  const length = conversation.samples.length;
  const id = `call-s${spec.seed}-${spec.durationSeconds}s-b${bargeIn}-v${leftVoices}+${rightVoices}`;
  const onChannel = [conversation.speakers.slice(0, leftVoices), conversation.speakers.slice(leftVoices)];
  const channels = [0, 1].map((channel): Recording => {
    const samples = new Int16Array(length);
    const words: TrueWord[] = [];
    const shift = channel === 1 ? -Math.round(bargeIn * SAMPLE_RATE) : 0;
    for (const word of conversation.words) {
      if (!onChannel[channel].includes(word.speaker)) continue;
      const from = Math.round(word.start * SAMPLE_RATE);
      const to = Math.round(word.end * SAMPLE_RATE);
      const at = from + shift;
      if (at < 0) continue;
      // In the generated conversation only one voice sounds at a time: a word's samples are its clip alone.
      samples.set(conversation.samples.subarray(from, to), at);
      words.push({ ...word, start: at / SAMPLE_RATE, end: (at + to - from) / SAMPLE_RATE });
    }
    addNoise(samples, spec.noiseDb ?? -60, mixSeed(`${id}-noise`, channel));
    return {
      id: `${id}-ch${channel}`,
      sampleRate: SAMPLE_RATE,
      samples,
      words,
      speakers: onChannel[channel],
      duration: length / SAMPLE_RATE,
      speakerVoices: conversation.speakerVoices?.filter((_, i) => onChannel[channel].includes(conversation.speakers[i])),
    };
  }) as [Recording, Recording];
  const words = channels
    .flatMap((recording, channel) => recording.words.map((word) => ({ ...word, channel })))
    .sort((a, b) => a.start - b.start || a.channel - b.channel);
  return { id, duration: length / SAMPLE_RATE, channels, words };
}

/** Words of one channel that overlap in time a word of another: the cross-talk. */
export function crossTalkWords(call: StereoCall): Array<TrueWord & { channel: number }> {
  return call.words.filter((w) => call.words.some((o) => o.channel !== w.channel && o.start < w.end && w.start < o.end));
}

/** The call as a 16 kHz 16-bit stereo WAV: channel 0 left, channel 1 right. */
export function stereoWavBytes(call: Pick<StereoCall, "channels">): Buffer {
  const [left, right] = call.channels;
  const frames = Math.max(left.samples.length, right.samples.length);
  const data = Buffer.alloc(frames * 4);
  for (let i = 0; i < frames; i++) {
    data.writeInt16LE(left.samples[i] ?? 0, i * 4);
    data.writeInt16LE(right.samples[i] ?? 0, i * 4 + 2);
  }
  return wavBytes(data, SAMPLE_RATE, 2);
}

function addNoise(samples: Int16Array, noiseDb: number, seed: number): void {
  const random = seededRandom(seed);
  const amplitude = 32768 * 10 ** (noiseDb / 20) * Math.sqrt(3);
  for (let i = 0; i < samples.length; i++) {
    const value = samples[i] + Math.round((random.next() * 2 - 1) * amplitude);
    samples[i] = value > 32767 ? 32767 : value < -32768 ? -32768 : value;
  }
}
