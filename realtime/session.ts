/**
 * One realtime session, from session.created to the batch job: parses each client frame, keeps the
 * session's audio (recording) and feeds the live upstream, and turns what the upstream hears into
 * protocol events. Knows nothing of sockets: the gateway gives it `send` and `close`.
 */
import { AUTO_LANGUAGE, explicitLanguage, normalizeLanguage } from "../shared/domain/options/languages.js";
import type { Log } from "../shared/pipeline/context.js";
import { reasonOf } from "../shared/errors.js";
import {
  AUDIO_FORMAT,
  SAMPLE_RATE,
  decodeAudioChunk,
  errorEvent,
  isSupportedAudioFormat,
  parseClientMessage,
  type ProtocolProblem,
  type ServerEvent,
  type SessionConfigUpdate,
  type SessionView,
} from "./protocol.js";
import type { CloseReason, SessionOutcome, SessionRecorder, SessionRecording } from "./session-recorder.js";
import { DEFAULT_VAD } from "./vad.js";
import type { ItemIds, LiveSettings, LiveUsage, Upstream, UpstreamListener } from "./upstream/types.js";

export interface SessionLimits {
  /** Decoded bytes of one append; larger chunks get an error (and the session goes on). */
  maxAudioChunkBytes: number;
  /** Audio per session; past it the session is closed (and submitted). */
  maxSessionSeconds: number;
  /** How long a closing session waits for transcripts still in flight. */
  drainTimeoutMs: number;
}

export type UpstreamFactory = (
  settings: LiveSettings,
  listener: UpstreamListener,
  ids: ItemIds,
  startSample: number,
) => Promise<Upstream>;

export interface SessionDeps {
  id: string;
  keyId: string;
  model: string;
  limits: SessionLimits;
  recorder: SessionRecorder;
  /** The configured mode's upstream (realtime relay, HTTP, or auto). */
  openUpstream: UpstreamFactory;
  /** Takes over when a relay is lost mid-session. */
  fallbackUpstream: UpstreamFactory;
  send: (event: ServerEvent) => void;
  close: (code: number, reason: string) => void;
  log: Log;
  now: () => Date;
  /** Told once, when the session has ended and been submitted (metrics). */
  onEnded?: (summary: SessionSummary) => void;
}

/** What one ended session streamed and cost: for the gateway's metrics. */
export interface SessionSummary {
  sessionId: string;
  upstream: "realtime" | "http";
  reason: CloseReason;
  status: SessionOutcome["status"];
  audioSeconds: number;
  live: LiveUsage;
}

export class RealtimeSession {
  private settings: LiveSettings;
  private upstream!: Upstream;
  private recording!: SessionRecording;
  private readonly startedAt: Date;
  private utterances = 0;
  private itemCount = 0;
  private lastItemId: string | null = null;
  private ending: Promise<SessionOutcome> | undefined;
  /** Usage of upstreams this session has left behind (a relay lost mid-session). */
  private earlierUsage: LiveUsage = { audioSecondsBilled: 0, requests: 0, partialRequests: 0 };
  private limitReached = false;
  /** Utterance end events, in order, each after its audio is stored (see onceDurable). */
  private acknowledged: Promise<void> = Promise.resolve();

  private constructor(private readonly deps: SessionDeps) {
    this.startedAt = deps.now();
    this.settings = { model: deps.model, vad: { ...DEFAULT_VAD } };
  }

  /** Connects the upstream and starts the recording; the caller then announces `session.created`. */
  static async open(deps: SessionDeps): Promise<RealtimeSession> {
    const session = new RealtimeSession(deps);
    session.upstream = await deps.openUpstream(session.settings, session.listener, session.ids, 0);
    try {
      session.recording = await deps.recorder.start({
        sessionId: deps.id,
        model: deps.model,
        upstream: session.upstream.kind,
        keyId: deps.keyId,
        startedAt: session.startedAt,
      });
    } catch (error) {
      session.upstream.close();
      throw error;
    }
    return session;
  }

  get id(): string {
    return this.deps.id;
  }

  view(): SessionView {
    const vad = this.settings.vad;
    return {
      id: this.deps.id,
      object: "realtime.transcription_session",
      model: this.settings.model,
      input_audio_format: AUDIO_FORMAT,
      input_audio_transcription: { model: this.settings.model, language: this.settings.language ?? null, prompt: this.settings.prompt ?? null },
      turn_detection: vad
        ? { type: "server_vad", threshold: vad.threshold, prefix_padding_ms: vad.prefixPaddingMs, silence_duration_ms: vad.silenceDurationMs }
        : null,
      upstream: this.upstream.kind,
      expires_at: Math.floor(this.startedAt.getTime() / 1000 + this.deps.limits.maxSessionSeconds),
    };
  }

  /** One text frame from the client. */
  handle(text: string): void {
    if (this.ending) return;
    const parsed = parseClientMessage(text);
    if (!parsed.ok) return this.problem(parsed.problem);
    const message = parsed.value;
    switch (message.type) {
      case "input_audio_buffer.append": {
        const audio = decodeAudioChunk(message.audio, this.deps.limits.maxAudioChunkBytes);
        if (!audio.ok) return this.problem({ ...audio.problem, eventId: message.event_id });
        return this.append(audio.value, message.audio);
      }
      case "input_audio_buffer.commit": {
        const problem = this.upstream.commit();
        if (problem) this.problem({ ...problem, eventId: message.event_id });
        return;
      }
      case "input_audio_buffer.clear":
        this.upstream.clear();
        this.deps.send({ type: "input_audio_buffer.cleared" });
        return;
      case "transcription_session.update":
      case "session.update": {
        const problem = this.update(message.session);
        if (problem) return this.problem({ ...problem, eventId: message.event_id });
        this.deps.send({ type: message.type === "session.update" ? "session.updated" : "transcription_session.updated", session: this.view() });
        return;
      }
    }
  }

  /** A frame the protocol does not allow (binary). */
  rejectBinary(): void {
    this.problem({ code: "invalid_event", message: "binary frames are not part of the protocol: send JSON text events with base64 audio" });
  }

  /** The socket is gone (or about to be): finish the live side, then submit the session. Idempotent. */
  end(reason: CloseReason): Promise<SessionOutcome> {
    this.ending ??= this.finish(reason);
    return this.ending;
  }

  private async finish(reason: CloseReason): Promise<SessionOutcome> {
    // A client that closed cleanly is not listening any more either: stop the live side at once.
    this.upstream.close();
    // Acknowledgements already on their way go out (and are counted) before the session is closed.
    await this.acknowledged;
    const live = this.usage();
    const outcome = await this.recording.finish({
      reason: this.limitReached ? "session_limit" : reason,
      endedAt: this.deps.now(),
      utteranceCount: this.utterances,
      language: this.settings.language,
      prompt: this.settings.prompt,
      live,
    });
    this.deps.log.info("realtime session ended", {
      sessionId: this.deps.id,
      reason,
      status: outcome.status,
      audioSeconds: outcome.audioSeconds,
      utterances: this.utterances,
      jobId: outcome.jobId,
      live,
    });
    this.deps.onEnded?.({ sessionId: this.deps.id, upstream: this.upstream.kind, reason, status: outcome.status, audioSeconds: outcome.audioSeconds, live });
    return outcome;
  }

  /** The provider cost of this session's live text, over every upstream it has had. */
  usage(): LiveUsage {
    const now = this.upstream.usage();
    return {
      audioSecondsBilled: round3(this.earlierUsage.audioSecondsBilled + now.audioSecondsBilled),
      requests: this.earlierUsage.requests + now.requests,
      partialRequests: this.earlierUsage.partialRequests + now.partialRequests,
    };
  }

  /** Waits (bounded) for the transcripts of what was already heard: for a client that asked to finish. */
  async drain(): Promise<void> {
    await this.upstream.drain(this.deps.limits.drainTimeoutMs);
    await this.acknowledged;
  }

  private append(samples: Int16Array, base64: string): void {
    const limit = this.deps.limits.maxSessionSeconds * SAMPLE_RATE;
    const room = limit - this.recording.samples;
    const accepted = samples.length <= room ? samples : samples.subarray(0, Math.max(0, room));
    if (accepted.length) {
      this.recording.append(accepted);
      this.upstream.append(accepted, accepted === samples ? base64 : undefined);
    }
    if (accepted.length < samples.length && !this.limitReached) {
      this.limitReached = true;
      this.problem({
        code: "session_limit_reached",
        message: `the session reached its limit of ${this.deps.limits.maxSessionSeconds} s of audio; it is closed and its transcript is being prepared`,
      });
      this.deps.close(1008, "session audio limit reached");
    }
  }

  private update(session: SessionConfigUpdate): ProtocolProblem | undefined {
    if (session.input_audio_format !== undefined && !isSupportedAudioFormat(session.input_audio_format)) {
      return unsupportedFormat(session.input_audio_format, "session.input_audio_format");
    }
    const next: LiveSettings = { ...this.settings, vad: this.settings.vad ? { ...this.settings.vad } : null };
    const transcription = session.input_audio_transcription;
    if (transcription) {
      if (transcription.model !== undefined) next.model = transcription.model;
      if (transcription.language !== undefined) {
        const language = transcription.language === AUTO_LANGUAGE ? AUTO_LANGUAGE : normalizeLanguage(transcription.language);
        if (!language) {
          return { code: "invalid_value", message: `session.input_audio_transcription.language '${transcription.language}' is not an ISO-639-1 code (e.g. en) or auto`, param: "session.input_audio_transcription.language" };
        }
        next.language = explicitLanguage(language);
      }
      if (transcription.prompt !== undefined) next.prompt = transcription.prompt || undefined;
    }
    if (session.turn_detection === null) next.vad = null;
    else if (session.turn_detection) {
      const td = session.turn_detection;
      const base = next.vad ?? { ...DEFAULT_VAD };
      next.vad = {
        threshold: td.threshold ?? base.threshold,
        prefixPaddingMs: td.prefix_padding_ms ?? base.prefixPaddingMs,
        silenceDurationMs: td.silence_duration_ms ?? base.silenceDurationMs,
      };
    }
    this.settings = next;
    this.upstream.configure(next, session as Record<string, unknown>);
    return undefined;
  }

  /**
   * An utterance's end event is its acknowledgement: it goes out once the session's audio up to the
   * utterance's end is stored, so a gateway that dies afterwards loses nothing the client saw
   * acknowledged. Events keep their order. If storing keeps failing, the event goes out anyway (the text
   * is the client's) and the session's record ends FAILED should the audio never be stored.
   */
  private onceDurable(endSeconds: number, send: () => void): void {
    const through = Math.ceil(endSeconds * SAMPLE_RATE);
    this.acknowledged = this.acknowledged
      .then(() => this.recording.durableThrough(through))
      .catch((error: unknown) => this.deps.log.warn("utterance acknowledged before its audio was stored", { sessionId: this.deps.id, error: reasonOf(error) }))
      .then(send);
  }

  private problem(problem: ProtocolProblem): void {
    this.deps.send(errorEvent(problem));
  }

  private readonly ids: ItemIds = {
    next: () => `item_${this.deps.id.replace(/^sess_/, "").slice(0, 12)}_${String(++this.itemCount).padStart(4, "0")}`,
  };

  private readonly listener: UpstreamListener = {
    speechStarted: (itemId, start) => this.deps.send({ type: "input_audio_buffer.speech_started", item_id: itemId, audio_start_ms: Math.round(start * 1000) }),
    speechStopped: (itemId, end) => this.deps.send({ type: "input_audio_buffer.speech_stopped", item_id: itemId, audio_end_ms: Math.round(end * 1000) }),
    committed: (itemId) => {
      this.deps.send({ type: "input_audio_buffer.committed", item_id: itemId, previous_item_id: this.lastItemId });
      this.lastItemId = itemId;
    },
    delta: (itemId, text) => this.deps.send({ type: "conversation.item.input_audio_transcription.delta", item_id: itemId, content_index: 0, delta: text }),
    completed: (itemId, result) =>
      this.onceDurable(result.end, () => {
        this.utterances++;
        this.deps.send({ type: "conversation.item.input_audio_transcription.completed", item_id: itemId, content_index: 0, ...result });
      }),
    failed: (itemId, failure) =>
      this.onceDurable(failure.end, () => {
        this.utterances++;
        this.deps.send({
          type: "conversation.item.input_audio_transcription.failed",
          item_id: itemId,
          content_index: 0,
          start: failure.start,
          end: failure.end,
          error: { type: "transcription_error", code: failure.code, message: failure.message },
        });
      }),
    problem: (problem) => this.problem(problem),
    lost: (reason) => {
      if (this.ending) return;
      // The session's audio is safe in the recording either way; live text carries on over HTTP.
      this.deps.log.warn("realtime upstream lost; continuing over HTTP", { sessionId: this.deps.id, reason });
      const startSample = this.recording.samples;
      void this.deps.fallbackUpstream(this.settings, this.listener, this.ids, startSample).then(
        (upstream) => {
          if (this.ending) return upstream.close();
          this.earlierUsage = this.usage();
          this.upstream = upstream;
        },
        (error: unknown) => this.deps.log.error("no fallback upstream", { sessionId: this.deps.id, error: reasonOf(error) }),
      );
    },
  };
}

export function unsupportedFormat(format: string, param: string): ProtocolProblem {
  return {
    code: "unsupported_audio_format",
    message: `input_audio_format '${format.slice(0, 40)}' is not supported; send ${AUDIO_FORMAT} (16 kHz mono signed 16-bit little-endian PCM, base64)`,
    param,
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
