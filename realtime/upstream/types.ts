import type { ProtocolProblem, Word } from "../protocol.js";
import type { VadSettings } from "../vad.js";

/** What the live transcription of a session is asked for; changed by transcription_session.update. */
export interface LiveSettings {
  model: string;
  language?: string;
  prompt?: string;
  /** null: no server VAD, only commit ends an utterance. */
  vad: VadSettings | null;
}

/**
 * What an upstream reports, in the session's terms: item ids are the gateway's, times are seconds from
 * the first sample of the session's audio. The session turns these into protocol events.
 */
export interface UpstreamListener {
  speechStarted(itemId: string, start: number): void;
  speechStopped(itemId: string, end: number): void;
  committed(itemId: string): void;
  delta(itemId: string, text: string): void;
  completed(itemId: string, result: { transcript: string; start: number; end: number; words?: Word[]; language?: string }): void;
  failed(itemId: string, failure: { start: number; end: number; code: string; message: string }): void;
  /** A problem the upstream reported about a client message (relay only). */
  problem(problem: ProtocolProblem): void;
  /** The upstream is gone for good (relay connection dropped): the session carries on without it. */
  lost(reason: string): void;
}

/** What the live side of a session cost at the provider, for the session item and the gateway's metrics. */
export interface LiveUsage {
  /** Seconds of audio sent to the provider for live text (each request's audio; a relay's streamed audio). */
  audioSecondsBilled: number;
  /** Provider requests made for live text (HTTP upstream; 0 for a relay). */
  requests: number;
  /** Of those, requests made while their utterance was still open (for deltas). */
  partialRequests: number;
}

export interface Upstream {
  readonly kind: "realtime" | "http";
  /** The provider cost of this upstream's live text so far. */
  usage(): LiveUsage;
  /** Samples in order, with the base64 the client sent when there is one (a relay forwards it as is). */
  append(samples: Int16Array, base64?: string): void;
  /** Ends the utterance in progress now; a problem when there is nothing to commit. */
  commit(): ProtocolProblem | undefined;
  clear(): void;
  configure(settings: LiveSettings, raw?: Record<string, unknown>): void;
  /** The stream ended: finish what was heard, within `timeoutMs`, then release everything. */
  drain(timeoutMs: number): Promise<void>;
  /** Drops everything at once (the client is gone). */
  close(): void;
}

export interface ItemIds {
  next(): string;
}
