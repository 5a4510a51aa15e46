/**
 * The ground-truth provider: an HTTP server speaking Together's speech-to-text API that answers from
 * known recordings instead of a model. It hears only the uploaded audio, finds where it comes from,
 * and returns the true words of that stretch, optionally with the imperfections and failures of a
 * real provider.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { ISO_639_1, explicitLanguage } from "../../shared/domain/options/languages.js";
import { SAMPLE_RATE } from "../audio/ffmpeg.js";
import type { Recording } from "../audio/recording.js";
import { mixSeed, seededRandom } from "../audio/seeded-random.js";
import {
  badRequest, errorBody, invalidKey, notFound, rateLimited, serverError, tooLarge, type ApiError,
} from "./api-error.js";
import { decodeUpload } from "./decode-upload.js";
import { drawFailure } from "./faults.js";
import { hearWords } from "./hear-words.js";
import { majorityHeardLanguage, wordsInAnotherLanguage } from "./heard-language.js";
import { AudioLocator, type LocatedPiece } from "./locator.js";
import { RehearSlices } from "./rehear-slices.js";
import { malform } from "./malformed.js";
import { DEFAULT_OPTIONS, isTextOnlyModel, type FailureKind, type ProviderOptions } from "./options.js";
import { countInto, emptyStats, type ProviderStats } from "./provider-stats.js";
import { textOf, verboseBody } from "./transcript-body.js";
import { parseTranscriptionRequest, type TranscriptionRequest } from "./transcription-request.js";

export interface GroundTruthProvider {
  /** Base URL ending in /v1, as a client's baseURL. */
  url: string;
  port: number;
  apiKey: string;
  /** Makes a recording known; uploads cut from it are then recognised. Same id replaces. */
  addRecording(recording: Recording): void;
  /** Changes options for the following requests. */
  configure(options: Partial<ProviderOptions>): void;
  stats(): ProviderStats;
  resetStats(): void;
  close(): Promise<void>;
}

export interface StartOptions extends Partial<ProviderOptions> {
  recordings?: Recording[];
}

type Task = "transcribe" | "translate";

const ROUTES: Record<string, Task> = {
  "/v1/audio/transcriptions": "transcribe",
  "/v1/audio/translations": "translate",
};
const MIN_AUDIO_SECONDS = 0.1;
/** Uploads remembered at most (each entry is a few placements, not audio). */
const HEARD_BEFORE_LIMIT = 50_000;

export async function startGroundTruthProvider(start: StartOptions = {}): Promise<GroundTruthProvider> {
  const { recordings = [], ...overrides } = start;
  let options: ProviderOptions = { ...DEFAULT_OPTIONS, ...overrides };
  let stats = emptyStats();
  let requestNumber = 0;
  const locator = new AudioLocator();
  for (const recording of recordings) locator.add(recording);
  const attemptsPerAudio = new Map<string, number>();
  // Where each upload was found, by its bytes' hash: the same bytes are decoded and located once (retries,
  // repeated runs of one recording in a benchmark). Forgotten when the known recordings change.
  const heardBefore = new Map<string, { duration: number; pieces: LocatedPiece[] }>();
  // Uploads located before, for uploads made of exact slices of them (the rehearSlices option).
  const rehear = new RehearSlices();
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();

  const wait = (seconds: number): Promise<void> =>
    new Promise((resolve) => {
      if (seconds <= 0) return resolve();
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, seconds * 1000);
      timers.add(timer);
    });

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void => {
    if (res.destroyed || res.headersSent) return;
    countInto(stats.byStatus, String(status));
    const contentType = headers["content-type"] ?? "application/json";
    res.writeHead(status, { ...headers, "content-type": contentType, "content-length": String(Buffer.byteLength(body)) });
    res.end(body);
  };
  const sendError = (res: ServerResponse, error: ApiError): void => send(res, error.status, errorBody(error), error.headers);

  const injectFailure = async (req: IncomingMessage, res: ServerResponse, kind: FailureKind): Promise<void> => {
    stats.faultsInjected++;
    countInto(stats.faultsByKind, kind);
    if (kind === "429") return sendError(res, rateLimited(options.retryAfterSeconds));
    if (kind === "500" || kind === "503") return sendError(res, serverError(Number(kind) as 500 | 503));
    countInto(stats.byStatus, kind);
    // "timeout" hangs past any sensible client timeout first; "reset" drops the connection at once.
    if (kind === "timeout") await wait(options.hangSeconds);
    req.socket.destroy();
  };

  const transcribe = async (res: ServerResponse, task: Task, request: TranscriptionRequest, audioKey: string): Promise<void> => {
    const started = performance.now();
    let heard = heardBefore.get(audioKey);
    if (!heard) {
      let samples: Int16Array;
      try {
        samples = await decodeUpload(request.file);
      } catch {
        return sendError(res, badRequest("Could not decode the audio file. Supported formats: wav, mp3, m4a, webm, flac, ogg, opus.", "file", "invalid_audio"));
      }
      const duration = samples.length / SAMPLE_RATE;
      if (duration < MIN_AUDIO_SECONDS) {
        return sendError(res, badRequest(`Audio file is too short. Minimum audio length is ${MIN_AUDIO_SECONDS} seconds.`, "file", "audio_too_short"));
      }
      const rehearsed = options.rehearSlices ? rehear.place(samples) : undefined;
      if (rehearsed) stats.uploadsRehearsed++;
      heard = { duration, pieces: rehearsed ?? locator.locate(samples) };
      if (options.rehearSlices && !rehearsed) rehear.add(samples, heard.pieces);
      if (heardBefore.size >= HEARD_BEFORE_LIMIT) heardBefore.clear();
      heardBefore.set(audioKey, heard);
    } else {
      stats.uploadsHeardBefore++;
    }
    const { duration, pieces } = heard;
    // The same audio is heard the same way every time, as a model at temperature 0 would.
    const random = seededRandom(mixSeed(options.seed, audioKey, task, request.model));
    const words = hearWords(pieces, duration, options, random);
    // The latency model is the whole of a request's time at the provider: this stand-in's own work (decoding,
    // locating) happens inside it rather than on top, as a real service's compute is not on the caller's machine.
    const spentSeconds = (performance.now() - started) / 1000;
    await wait(options.latency.baseSeconds + options.latency.perAudioSecond * duration - spentSeconds);
    if (res.destroyed) return;
    stats.audioSecondsBilled += duration;

    if (request.responseFormat === "text") return send(res, 200, textOf(words), { "content-type": "text/plain; charset=utf-8" });
    // Translations are English; otherwise the language asked for, else the one most of the words are in.
    const requested = explicitLanguage(request.language);
    const languageCode = task === "translate" ? "en" : (requested ?? majorityHeardLanguage(words));
    countInto(stats.languagesRequested, requested ?? "auto");
    if (task === "transcribe") stats.wrongLanguageWords += wordsInAnotherLanguage(words, languageCode);
    const body =
      request.responseFormat === "json" || isTextOnlyModel(options, request.model)
        ? { text: textOf(words) }
        : verboseBody(words, {
            task,
            // As Whisper names them: the English name, lowercase.
            language: options.languageAsName ? (ISO_639_1.get(languageCode)?.toLowerCase() ?? languageCode) : languageCode,
            duration,
            includeWords: request.granularities.has("word"),
            diarize: request.diarize,
            maxSpeakers: request.maxSpeakers,
          }, random);
    if (options.malformed.length > 0 && random.chance(options.malformedRate)) {
      const kind = random.pick(options.malformed);
      stats.faultsInjected++;
      countInto(stats.faultsByKind, kind);
      return send(res, 200, malform(kind, body));
    }
    send(res, 200, JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0];
    const task = req.method === "POST" ? ROUTES[path] : undefined;
    const body = await readBody(req, options.maxUploadBytes);
    if (!task) return sendError(res, notFound(path));
    if (req.headers.authorization !== `Bearer ${options.apiKey}`) return sendError(res, invalidKey());
    if (options.permanentError === 401) return sendError(res, invalidKey());
    if (options.permanentError === 413 || body === "too-large") return sendError(res, tooLarge(options.maxUploadBytes));
    if (options.permanentError === 400) return sendError(res, badRequest("Invalid request.", null));

    const request = await parseTranscriptionRequest(body, req.headers["content-type"] ?? "", options.models);
    if ("status" in request) return sendError(res, request);

    const audioKey = createHash("sha1").update(request.file).digest("hex");
    const attempt = (attemptsPerAudio.get(audioKey) ?? 0) + 1;
    attemptsPerAudio.set(audioKey, attempt);
    const failure = drawFailure(options, seededRandom(mixSeed(options.seed, "failure", audioKey, attempt)));
    if (failure) return injectFailure(req, res, failure);
    await transcribe(res, task, request, audioKey);
  };

  const server = createServer((req, res) => {
    stats.requests++;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    res.setHeader("x-request-id", `gt-${++requestNumber}`);
    res.on("close", () => stats.inFlight--);
    handle(req, res).catch((error: unknown) => {
      sendError(res, { ...serverError(500), message: `ground-truth provider bug: ${String(error)}` });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${options.host}:${port}/v1`,
    port,
    apiKey: options.apiKey,
    addRecording: (recording) => {
      locator.add(recording);
      heardBefore.clear();
      rehear.clear();
    },
    configure: (changes) => {
      options = { ...options, ...changes };
    },
    stats: () => structuredClone(stats),
    resetStats: () => {
      stats = { ...emptyStats(), inFlight: stats.inFlight };
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Reads the whole body, but keeps nothing past the limit (the rest is drained so the client sees the 413). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | "too-large"> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total <= limit) chunks.push(chunk);
  }
  return total > limit ? "too-large" : Buffer.concat(chunks);
}
