/**
 * Turns the rows the reliability tests wrote (test/reliability/results/*.json) into the figures section of
 * RELIABILITY.md, between its `<!-- figures -->` markers. Run after the suite:
 *
 *   npm run test:reliability && npx tsx test/reliability/report.ts
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CaseRow } from "./support.js";

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, "results");
const target = join(here, "..", "..", "RELIABILITY.md");
const ORDER = ["Provider faults", "Malformed responses", "Delivery faults", "Retry backoff", "Bad input", "Fuzz", "Load"];

const rows: CaseRow[] = readdirSync(resultsDir)
  .filter((f) => f.endsWith(".json"))
  .flatMap((f) => (JSON.parse(readFileSync(join(resultsDir, f), "utf8")) as { rows: CaseRow[] }).rows);
rows.sort((a, b) => ORDER.indexOf(a.group) - ORDER.indexOf(b.group));

const cell = (value: unknown) => (value === undefined || value === null ? "" : String(value).replace(/\|/g, "\\|").replace(/\n/g, " "));
const sum = (pick: (r: CaseRow) => number | undefined, of = rows) => of.reduce((n, r) => n + (pick(r) ?? 0), 0);

const lines: string[] = [];
lines.push("| Group | Case | Jobs | Expected | Outcome | Faults injected | Retries | Truth words | Lost | Extra |");
lines.push("|---|---|---:|---|---|---:|---:|---:|---:|---:|");
for (const r of rows) {
  const outcome = r.note ? `${r.outcome} (${r.note})` : r.outcome;
  lines.push(
    `| ${cell(r.group)} | ${cell(r.case)} | ${r.jobs} | ${cell(r.expected)} | ${cell(outcome)} | ${cell(r.faults)} | ${cell(r.retries)} | ${cell(r.words)} | ${cell(r.lost)} | ${cell(r.extra)} |`,
  );
}
lines.push("");
lines.push("| Group | Cases | Jobs | Faults injected | Retries | Truth words (completed jobs) | Words lost | Words extra |");
lines.push("|---|---:|---:|---:|---:|---:|---:|---:|");
for (const group of [...ORDER, "All"]) {
  const of = group === "All" ? rows : rows.filter((r) => r.group === group);
  if (of.length === 0) continue;
  const name = group === "All" ? "**All**" : group;
  lines.push(
    `| ${name} | ${of.length} | ${sum((r) => r.jobs, of)} | ${sum((r) => r.faults, of)} | ${sum((r) => r.retries, of)} | ${sum((r) => r.words, of)} | ${sum((r) => r.lost, of)} | ${sum((r) => r.extra, of)} |`,
  );
}

const doc = readFileSync(target, "utf8");
const start = doc.indexOf("<!-- figures -->");
const end = doc.indexOf("<!-- /figures -->");
if (start < 0 || end < start) throw new Error("RELIABILITY.md has no <!-- figures --> ... <!-- /figures --> markers");
writeFileSync(target, `${doc.slice(0, start + "<!-- figures -->".length)}\n${lines.join("\n")}\n${doc.slice(end)}`);
process.stdout.write(`${rows.length} cases written to ${target}\n`);
