/**
 * An independent reader for the caption files we write, so the e2e test
 * checks them against the formats' rules rather than against our renderer.
 */
export interface ParsedCue {
  start: number;
  end: number;
  lines: string[];
}

const SRT_TIME = /^(\d{2}):(\d{2}):(\d{2}),(\d{3}) --> (\d{2}):(\d{2}):(\d{2}),(\d{3})$/;
const VTT_TIME = /^(\d{2}):(\d{2}):(\d{2})\.(\d{3}) --> (\d{2}):(\d{2}):(\d{2})\.(\d{3})/;

function seconds(h: string, m: string, s: string, ms: string): number {
  return Number(h) * 3600 + Number(m) * 60 + Number(s) + Number(ms) / 1000;
}

export function parseSrt(text: string): ParsedCue[] {
  const blocks = text.replace(/\r/g, "").trim().split(/\n\n+/).filter(Boolean);
  return blocks.map((block, i) => {
    const [number, timing, ...lines] = block.split("\n");
    if (Number(number) !== i + 1) throw new Error(`SRT cue ${i + 1} is numbered '${number}'`);
    const m = SRT_TIME.exec(timing ?? "");
    if (!m) throw new Error(`SRT cue ${i + 1} has a bad timing line '${timing}'`);
    return { start: seconds(m[1], m[2], m[3], m[4]), end: seconds(m[5], m[6], m[7], m[8]), lines };
  });
}

export function parseVtt(text: string): ParsedCue[] {
  const normalized = text.replace(/\r/g, "");
  if (!normalized.startsWith("WEBVTT")) throw new Error("VTT does not start with WEBVTT");
  const blocks = normalized.split(/\n\n+/).slice(1).filter((b) => b.trim());
  return blocks.map((block, i) => {
    const rows = block.split("\n");
    const timingAt = rows.findIndex((r) => VTT_TIME.test(r));
    if (timingAt < 0) throw new Error(`VTT cue ${i + 1} has no timing line`);
    const m = VTT_TIME.exec(rows[timingAt])!;
    return { start: seconds(m[1], m[2], m[3], m[4]), end: seconds(m[5], m[6], m[7], m[8]), lines: rows.slice(timingAt + 1) };
  });
}

/** Common caption rules: ordered, non-overlapping, ≤ 2 lines of ≤ 42 characters, ≤ 7 s. */
export function captionProblems(cues: ParsedCue[], stripTags = false): string[] {
  const problems: string[] = [];
  cues.forEach((cue, i) => {
    if (cue.end <= cue.start) problems.push(`cue ${i + 1} ends before it starts`);
    if (cue.end - cue.start > 7.0005) problems.push(`cue ${i + 1} lasts ${(cue.end - cue.start).toFixed(3)} s`);
    if (cue.lines.length > 2) problems.push(`cue ${i + 1} has ${cue.lines.length} lines`);
    for (const line of cue.lines) {
      const visible = stripTags ? line.replace(/<[^>]+>/g, "") : line;
      if ([...visible].length > 42) problems.push(`cue ${i + 1} has a line of ${[...visible].length} characters`);
    }
    if (i > 0 && cue.start < cues[i - 1].end) problems.push(`cue ${i + 1} overlaps cue ${i}`);
  });
  return problems;
}
