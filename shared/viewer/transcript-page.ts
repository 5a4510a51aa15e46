/**
 * The transcript viewer: one self-contained HTML page per job (inline CSS, inline script, the transcript
 * inline as JSON), rendered by a pure function. Two modes:
 * - server: served by `stt up` (local/viewer-server.ts): audio and downloads from the server, speakers renamed
 *   through it;
 * - static: `transcript.html` beside the outputs in the output bucket, opened by a presigned URL: no server,
 *   so no rename; the five output files are embedded (downloaded as Blob URLs), and the audio comes from the
 *   URL in the page's fragment (`#audio=<encoded url>`) or a local copy the reader picks.
 */
import type { OutputFormat } from "../domain/types.js";
import { CLIENT_SCRIPT } from "./client-script.js";
import { baseName, cspHash, escapeHtml, jsonForScript } from "./html.js";
import { buildPageModel, type PageModel, type ViewerTranscript } from "./page-model.js";
import { TRANSCRIPT_CSS } from "./styles.js";

export type { ViewerTranscript } from "./page-model.js";

/** What the page needs of the job record. */
export interface ViewerJob {
  jobId: string;
  source: { key: string };
  /** label -> name (the job record's `speakerNames`), newer than the transcript file's. */
  speakerNames?: Record<string, string>;
}

export type ViewerMode =
  | {
      kind: "server";
      /** Same-origin URLs. */
      audioUrl: string;
      downloads: Record<OutputFormat, string>;
      /** POST here + speaker id, with `{ name }` and the token in `x-stt-token`. */
      renameUrl: string;
      token: string;
      /** The job list. */
      homeUrl: string;
    }
  | { kind: "static"; outputs: Record<OutputFormat, string> };

export interface TranscriptPageInput {
  job: ViewerJob;
  transcript: ViewerTranscript;
  mode: ViewerMode;
}

/** How each output format is offered: a short label and the download's file name after the recording's. */
export const VIEWER_DOWNLOADS: Record<OutputFormat, { label: string; suffix: string; type: string }> = {
  text: { label: "TXT", suffix: ".txt", type: "text/plain;charset=utf-8" },
  srt: { label: "SRT", suffix: ".srt", type: "application/x-subrip;charset=utf-8" },
  vtt: { label: "VTT", suffix: ".vtt", type: "text/vtt;charset=utf-8" },
  json: { label: "JSON", suffix: ".json", type: "application/json" },
  verbose_json: { label: "Verbose JSON", suffix: ".verbose.json", type: "application/json" },
};

/** The recording's name without its extension, made safe for a file name. */
export function downloadBase(sourceKey: string): string {
  const base = baseName(sourceKey).replace(/\.[A-Za-z0-9]{1,5}$/, "");
  return base.replace(/[^A-Za-z0-9._ -]+/g, "_").replace(/^[.\s]+/, "").slice(0, 100) || "transcript";
}

export function renderTranscriptPage(input: TranscriptPageInput): string {
  const { job, transcript, mode } = input;
  const title = baseName(job.source.key);
  const model: PageModel = buildPageModel({ jobId: job.jobId, title, transcript, speakerNames: job.speakerNames });
  const base = downloadBase(job.source.key);
  const formats = (Object.keys(VIEWER_DOWNLOADS) as OutputFormat[]).map((format) => ({
    format,
    label: VIEWER_DOWNLOADS[format].label,
    type: VIEWER_DOWNLOADS[format].type,
    file: base + VIEWER_DOWNLOADS[format].suffix,
  }));
  const clientMode = mode.kind === "server" ? mode : { kind: "static" as const };
  const data = jsonForScript({ model, mode: clientMode, formats });
  const outputs = mode.kind === "static" ? `\n<script type="application/json" id="stt-outputs">${jsonForScript(mode.outputs)}</script>` : "";
  const policy = [
    "default-src 'none'",
    `script-src ${cspHash(CLIENT_SCRIPT)}`,
    `style-src ${cspHash(TRANSCRIPT_CSS)}`,
    mode.kind === "server" ? "media-src 'self' blob:" : "media-src https: http: blob:",
    mode.kind === "server" ? "connect-src 'self'" : "connect-src 'none'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
  const home = mode.kind === "server" ? `<a class="home" href="${escapeHtml(mode.homeUrl)}">All jobs</a>` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(policy)}">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · transcript</title>
<style>${TRANSCRIPT_CSS}</style>
</head>
<body>
<header class="panel">
  <div class="titlebar">${home}<h1>${escapeHtml(title)}</h1><span class="meta" id="meta"></span><nav class="downloads" id="downloads" aria-label="Downloads"></nav></div>
  <div class="player">
    <audio id="audio" controls preload="metadata"></audio>
    <label class="local" id="local" hidden>Play a local copy: <input type="file" id="local-file" accept="audio/*,video/*"></label>
    <label class="follow"><input type="checkbox" id="follow" checked> follow playback</label>
  </div>
  <div class="timeline" id="timeline" role="group" aria-label="Speaker timeline (click to seek)"></div>
  <div class="tools">
    <div class="search" role="search">
      <input id="q" type="search" placeholder="Search ( / )" aria-label="Search the transcript" autocomplete="off">
      <button id="prev" type="button" aria-label="Previous match" title="Previous match (Shift+Enter)">&#8593;</button>
      <button id="next" type="button" aria-label="Next match" title="Next match (Enter)">&#8595;</button>
      <span class="count" id="count" aria-live="polite"></span>
    </div>
    <ul class="legend" id="legend" aria-label="Speakers"></ul>
  </div>
  <div class="status" id="status" role="status" aria-live="polite"></div>
</header>
<main id="transcript" tabindex="-1" aria-label="Transcript"><noscript><p class="empty">The transcript viewer needs JavaScript.</p></noscript></main>
<script type="application/json" id="stt-data">${data}</script>${outputs}
<script>${CLIENT_SCRIPT}</script>
</body>
</html>
`;
}

export interface StaticTranscriptPageInput {
  job: ViewerJob;
  /** The `verbose_json` output, as written to the output bucket (or already parsed). */
  transcriptJson: string | ViewerTranscript;
  /** Every output format's text, as written to the output bucket. */
  outputs: Record<OutputFormat, string>;
}

/**
 * `transcript.html` for the output bucket: opened by a presigned URL, with the recording's presigned URL in
 * its fragment (`#audio=<encodeURIComponent(url)>`: a fragment never reaches the server that serves the page).
 */
export function renderStaticTranscriptPage(input: StaticTranscriptPageInput): string {
  const transcript = typeof input.transcriptJson === "string" ? (JSON.parse(input.transcriptJson) as ViewerTranscript) : input.transcriptJson;
  return renderTranscriptPage({ job: input.job, transcript, mode: { kind: "static", outputs: input.outputs } });
}

/** The URL that opens a static page with its recording: both presigned in AWS. */
export function staticPageUrl(pageUrl: string, audioUrl?: string): string {
  return audioUrl ? `${pageUrl}#audio=${encodeURIComponent(audioUrl)}` : pageUrl;
}
