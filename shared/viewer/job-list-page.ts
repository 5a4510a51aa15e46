/**
 * The viewer's plain pages: the job list, a job that has not completed, and "not found". Rendered on the
 * server, no script: every value from a record goes through escapeHtml.
 */
import type { JobRecord, JobStatus } from "../adapters/job-store.js";
import { JOB_STATUSES, isTerminal } from "../domain/jobs/job-event.js";
import { baseName, clockTime, cspHash, escapeHtml } from "./html.js";
import { LIST_CSS } from "./styles.js";

function page(title: string, body: string, options: { refreshSeconds?: number } = {}): string {
  const policy = `default-src 'none'; style-src ${cspHash(LIST_CSS)}; base-uri 'none'; form-action 'none'`;
  const refresh = options.refreshSeconds ? `\n<meta http-equiv="refresh" content="${options.refreshSeconds}">` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(policy)}">${refresh}
<title>${escapeHtml(title)}</title>
<style>${LIST_CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** The job record's speaker names (label -> name). */
export function speakerNamesOf(job: JobRecord): Record<string, string> {
  return job.speakerNames ?? {};
}

const isActive = (job: JobRecord) => !isTerminal(job.status);

function progress(job: JobRecord): string {
  if (job.status !== "RUNNING" || !job.segmentCount) return "";
  return ` segments ${job.doneSegments?.size ?? 0}/${job.segmentCount}`;
}

function when(iso: string): string {
  return iso.replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export interface JobListPageInput {
  jobs: JobRecord[];
  /** The filter the list was asked for. */
  status?: JobStatus;
  /** How many the list was limited to. */
  limit: number;
}

export function renderJobListPage(input: JobListPageInput): string {
  const filters = [undefined, ...JOB_STATUSES]
    .map((status) => {
      const href = status ? `/?status=${status}` : "/";
      const current = status === input.status ? ' aria-current="page"' : "";
      return `<a href="${href}"${current}>${status ? status.toLowerCase() : "all"}</a>`;
    })
    .join("");
  const rows = input.jobs.map((job) => {
    const names = speakerNamesOf(job);
    const speakers = job.speakers ?? [];
    const named = speakers.map((id) => names[id]).filter(Boolean);
    const file = escapeHtml(baseName(job.source.key));
    const link = `<a href="/jobs/${escapeHtml(job.jobId)}">${file}</a>`;
    return `<tr>
  <td>${link}<div class="names">${escapeHtml(job.jobId)}</div></td>
  <td><span class="badge ${escapeHtml(job.status)}">${escapeHtml(job.status)}</span>${escapeHtml(progress(job))}</td>
  <td class="when">${escapeHtml(when(job.createdAt))}</td>
  <td class="num">${job.duration !== undefined ? clockTime(job.duration) : ""}</td>
  <td class="num">${job.status === "COMPLETED" ? speakers.length : ""}${named.length ? `<div class="names">${escapeHtml(named.join(", "))}</div>` : ""}</td>
  <td class="num">${job.wordCount !== undefined ? job.wordCount.toLocaleString("en") : ""}</td>
  <td class="reason">${job.status === "FAILED" ? escapeHtml(job.error ?? job.lastError ?? "") : ""}</td>
</tr>`;
  });
  const table = rows.length
    ? `<table>
<thead><tr><th>Recording</th><th>Status</th><th>Created (UTC)</th><th>Duration</th><th>Speakers</th><th>Words</th><th>Reason</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
<p class="note">The ${input.limit} most recent jobs at most. Transcribe a file with <code>npm start -- file</code> or drop one in the input bucket.</p>`
    : `<p class="empty">No jobs${input.status ? ` ${input.status.toLowerCase()}` : ""} yet. Transcribe a file with <code>npm start -- file</code> or drop one in the input bucket.</p>`;
  return page(
    "Transcripts",
    `<header><h1>Transcripts</h1><nav class="filters" aria-label="Filter by status">${filters}</nav></header>\n${table}`,
    { refreshSeconds: input.jobs.some(isActive) ? 5 : undefined },
  );
}

/** A job that exists but has no transcript to show (yet, or ever). */
export function renderJobStatusPage(job: JobRecord): string {
  const file = escapeHtml(baseName(job.source.key));
  const reason = job.status === "FAILED" ? `<p class="reason">${escapeHtml(job.error ?? job.lastError ?? "no reason recorded")}</p>` : "";
  const note = isActive(job) ? `<p class="note">This page refreshes until the job ends.</p>` : "";
  return page(
    `${baseName(job.source.key)} · ${job.status.toLowerCase()}`,
    `<header><a href="/">All jobs</a><h1>${file}</h1></header>
<main class="status"><p><span class="badge ${escapeHtml(job.status)}">${escapeHtml(job.status)}</span>${escapeHtml(progress(job))}</p>${reason}${note}
<p class="names">${escapeHtml(job.jobId)} · created ${escapeHtml(when(job.createdAt))}</p></main>`,
    { refreshSeconds: isActive(job) ? 3 : undefined },
  );
}

/** A request the viewer cannot answer: `title` says how ("Not found"), `message` why. */
export function renderErrorPage(title: string, message: string): string {
  return page(title, `<header><a href="/">All jobs</a><h1>${escapeHtml(title)}</h1></header>\n<main class="status"><p>${escapeHtml(message)}</p></main>`);
}
