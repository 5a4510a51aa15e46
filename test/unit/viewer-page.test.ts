/** The viewer's pages as strings: what they carry, and that nothing from a record can become markup or script. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CLIENT_SCRIPT } from "../../shared/viewer/client-script.js";
import { buildPageModel, MAX_TURN_WORDS, type ViewerTranscript } from "../../shared/viewer/page-model.js";
import { renderStaticTranscriptPage, renderTranscriptPage, staticPageUrl } from "../../shared/viewer/transcript-page.js";
import { renderJobListPage, renderJobStatusPage } from "../../shared/viewer/job-list-page.js";
import { TRANSCRIPT_CSS } from "../../shared/viewer/styles.js";
import type { JobRecord } from "../../shared/adapters/job-store.js";
import type { OutputFormat } from "../../shared/domain/types.js";

const EVIL = `</script><script>alert(1)</script><img src=x onerror=alert(2)>"'&`;

const transcript: ViewerTranscript = {
  text: "Hello there. Hi.",
  language: "en",
  duration: 4,
  words: [
    { word: "Hello", start: 0.5, end: 0.9, speaker_id: "SPEAKER_00" },
    { word: EVIL, start: 1.0, end: 1.4, speaker_id: "SPEAKER_00" },
    { word: "Hi.", start: 3.0, end: 3.3, speaker_id: "SPEAKER_01" },
  ],
  segments: [
    { id: 0, start: 0.5, end: 1.4, text: `Hello ${EVIL}`, speaker_id: "SPEAKER_00" },
    { id: 1, start: 3.0, end: 3.3, text: "Hi.", speaker_id: "SPEAKER_01" },
  ],
  speakers: ["SPEAKER_00", "SPEAKER_01"],
  speaker_names: { SPEAKER_01: "Old name" },
};

const outputs: Record<OutputFormat, string> = {
  json: `{"text":"${EVIL.replace(/"/g, '\\"')}"}`,
  verbose_json: JSON.stringify(transcript),
  text: `SPEAKER_00: Hello ${EVIL}\n`,
  srt: "1\n00:00:00,500 --> 00:00:01,400\nHello\n",
  vtt: "WEBVTT\n",
};

const job = { jobId: "0123456789abcdef01234567", source: { key: `uploads/${EVIL}.wav` }, speakerNames: { SPEAKER_00: EVIL } };

function serverPage(): string {
  return renderTranscriptPage({
    job,
    transcript,
    mode: {
      kind: "server",
      audioUrl: "/jobs/x/audio",
      downloads: { json: "/a", verbose_json: "/b", text: "/c", srt: "/d", vtt: "/e" },
      renameUrl: "/api/jobs/x/speakers/",
      token: "secret-token",
      homeUrl: "/",
    },
  });
}

/** The page's script elements: [attributes, content]. */
function scripts(html: string): Array<[string, string]> {
  return [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)].map((m) => [m[1], m[2]]);
}

describe("the transcript page", () => {
  it("carries names, words and the file name only as escaped text or JSON that cannot close its script", () => {
    // Act
    const html = serverPage();

    // Assess: exactly the page's own scripts, and no markup from the data
    const found = scripts(html);
    expect(found.map(([attrs]) => attrs.trim())).toEqual(['type="application/json" id="stt-data"', ""]);
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<script>alert");
    // (the title is the key's last part: after the slash in `</script>`)
    expect(html).toContain("<h1>script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;&amp;.wav</h1>");
    // Assess: the data reads back as it was
    const data = JSON.parse(found[0][1]) as { model: { words: { text: string[] }; speakers: Array<{ id: string; name: string | null }> } };
    expect(found[0][1]).not.toContain("<");
    expect(data.model.words.text[1]).toBe(EVIL);
    expect(data.model.speakers).toEqual([
      { id: "SPEAKER_00", name: EVIL },
      { id: "SPEAKER_01", name: "Old name" },
    ]);
  });

  it("lets only its own script and style run (CSP hashes), and the script parses", () => {
    // Act
    const html = serverPage();
    const policy = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1].replace(/&#39;/g, "'");
    const hash = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

    // Assess
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain(`script-src ${hash(CLIENT_SCRIPT)}`);
    expect(policy).toContain(`style-src ${hash(TRANSCRIPT_CSS)}`);
    expect(policy).toContain("connect-src 'self'");
    expect(scripts(html)[1][1]).toBe(CLIENT_SCRIPT);
    expect(() => new Function(CLIENT_SCRIPT)).not.toThrow();
    expect(CLIENT_SCRIPT).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  it("in static mode embeds the five outputs, and neither a token nor a rename URL", () => {
    // Act
    const html = renderStaticTranscriptPage({ job, transcriptJson: JSON.stringify(transcript), outputs });

    // Assess
    const found = scripts(html);
    expect(found.map(([attrs]) => attrs.trim())).toEqual(['type="application/json" id="stt-data"', 'type="application/json" id="stt-outputs"', ""]);
    expect(JSON.parse(found[1][1])).toEqual(outputs);
    expect(found[1][1]).not.toContain("<");
    const data = JSON.parse(found[0][1]) as { mode: Record<string, unknown> };
    expect(data.mode).toEqual({ kind: "static" });
    expect(html).toContain("connect-src &#39;none&#39;");
    expect(staticPageUrl("https://b.s3/x/transcript.html?X-Amz-Signature=a", "https://b.s3/in/a b.wav?X-Amz-Signature=c&d=e")).toBe(
      "https://b.s3/x/transcript.html?X-Amz-Signature=a#audio=https%3A%2F%2Fb.s3%2Fin%2Fa%20b.wav%3FX-Amz-Signature%3Dc%26d%3De",
    );
  });
});

describe("the page model", () => {
  it("gives each segment its words, in columns of milliseconds, names from the record over the file's", () => {
    // Act
    const model = buildPageModel({ jobId: "j", title: "t", transcript, speakerNames: { SPEAKER_01: "New name" } });

    // Assess
    expect(model.words).toEqual({ text: ["Hello", EVIL, "Hi."], start: [500, 1000, 3000], end: [900, 1400, 3300] });
    expect(model.turns).toEqual({ speaker: [0, 1], first: [0, 2, 3] });
    expect(model.speakers).toEqual([
      { id: "SPEAKER_00", name: null },
      { id: "SPEAKER_01", name: "New name" },
    ]);
    expect(model.approximate).toBe(false);
  });

  it("spreads a text-only segment's words over its span, and takes speakers in lane order", () => {
    // Act
    const model = buildPageModel({
      jobId: "j",
      title: "t",
      transcript: {
        duration: 10,
        words: [],
        segments: [
          { start: 0, end: 2, text: "ab cd", speaker_id: null },
          { start: 5, end: 5, text: "  ", speaker_id: null },
        ],
      },
    });

    // Assess
    expect(model.words.text).toEqual(["ab", "cd"]);
    expect(model.words.start).toEqual([0, 1000]);
    expect(model.words.end).toEqual([1000, 2000]);
    expect(model.turns).toEqual({ speaker: [-1], first: [0, 2] });
    expect(model.approximate).toBe(true);
    expect(model.speakers).toEqual([]);
  });
});

describe("the page model, continued", () => {
  it("cuts a turn longer than the window can hold into turns of the same speaker", () => {
    // Prepare: one segment of 2.5 turns' worth of words
    const count = Math.round(MAX_TURN_WORDS * 2.5);
    const words = Array.from({ length: count }, (_, i) => ({ word: `w${i}`, start: i, end: i + 0.5, speaker_id: "SPEAKER_00" }));

    // Act
    const model = buildPageModel({
      jobId: "j",
      title: "t",
      transcript: { words, segments: [{ start: 0, end: count, text: "", speaker_id: "SPEAKER_00" }], speakers: ["SPEAKER_00"] },
    });

    // Assess
    expect(model.turns).toEqual({ speaker: [0, 0, 0], first: [0, MAX_TURN_WORDS, 2 * MAX_TURN_WORDS, count] });
    expect(model.words.text).toHaveLength(count);
  });
});

describe("the job list", () => {
  const record = (over: Partial<JobRecord>): JobRecord => ({
    jobId: "0123456789abcdef01234567",
    status: "COMPLETED",
    source: { bucket: "in", key: "a.wav" },
    options: {},
    createdAt: "2026-01-02T03:04:05.678Z",
    updatedAt: "2026-01-02T03:04:05.678Z",
    ...over,
  });

  it("shows status, duration, speakers and a failure's reason, all escaped", () => {
    // Act
    const html = renderJobListPage({
      limit: 100,
      jobs: [
        record({ duration: 3723, speakers: ["SPEAKER_00", "SPEAKER_01"], speakerNames: { SPEAKER_00: EVIL }, wordCount: 1234 }),
        record({ jobId: "fedcba9876543210fedcba98", status: "FAILED", source: { bucket: "in", key: `x/${EVIL}` }, error: EVIL }),
      ],
    });

    // Assess
    expect(html).not.toContain("<img");
    expect(html).not.toMatch(/<script/);
    expect(html).toContain('<a href="/jobs/0123456789abcdef01234567">a.wav</a>');
    expect(html).toContain("1:02:03");
    expect(html).toContain("1,234");
    expect(html).toContain('<td class="reason">&lt;/script&gt;');
    expect(html.match(/&lt;img src=x onerror=alert\(2\)&gt;/g)).toHaveLength(3);
  });

  it("refreshes while a job runs, and says so on a running job's page", () => {
    // Act
    const running = record({ status: "RUNNING", segmentCount: 4, doneSegments: new Set([0, 2]) });
    const list = renderJobListPage({ limit: 100, jobs: [running], status: "RUNNING" });
    const page = renderJobStatusPage(running);

    // Assess
    expect(list).toContain('http-equiv="refresh"');
    expect(list).toContain('<a href="/?status=RUNNING" aria-current="page">running</a>');
    expect(page).toContain("segments 2/4");
    expect(page).toContain('http-equiv="refresh"');
    expect(renderJobStatusPage(record({ status: "FAILED", error: "not audio" }))).toContain("not audio");
  });
});
