import type { OutputFormat, Transcript } from "../types.js";
import { parseVerboseJson, renderJson, renderVerboseJson, verboseTranscriptSchema } from "./json.js";
import { renderSrt } from "./srt.js";
import { renderText } from "./text.js";
import { renderVtt } from "./vtt.js";

export { renderJson, renderVerboseJson, renderSrt, renderText, renderVtt, parseVerboseJson, verboseTranscriptSchema };
export { buildCues, CAPTION_RULES, type Cue } from "./captions.js";

const RENDERERS: Record<OutputFormat, (t: Transcript) => string> = {
  json: renderJson,
  verbose_json: renderVerboseJson,
  text: renderText,
  srt: renderSrt,
  vtt: renderVtt,
};

/** The transcript in one output format. An empty transcript renders a valid, empty file. */
export function renderTranscript(t: Transcript, format: OutputFormat): string {
  return RENDERERS[format](t);
}
