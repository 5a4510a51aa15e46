import { readFileSync, statSync } from "node:fs";
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { LIST_KINDS, listKey, MAX_LIST_FILE_BYTES, type ListKind, type ListRecord } from "../shared/domain/vocabulary/term-list.js";
import { withStackSession, type StackSession } from "./stack-session.js";
import type { VocabularyAction } from "./program.js";

/**
 * Uploads a list file under vocabularies/ (or vocabulary-filters/) and waits for the chunker to register it: the
 * list item as stored (READY, or REFUSED with its reason). The file goes as `<prefix><name>.txt` whatever its
 * own name, as a user dropping it in the bucket would name it.
 */
export async function registerWordList(session: StackSession, kind: ListKind, name: string, file: string, timeoutMs = 60_000): Promise<ListRecord> {
  const key = listKey(kind, name);
  const before = await session.jobs.getList(kind, name);
  // Larger files are refused by the chunker; read no more than it would.
  const size = statSync(file).size;
  const body = size > MAX_LIST_FILE_BYTES + 1 ? readFileSync(file).subarray(0, MAX_LIST_FILE_BYTES + 1) : readFileSync(file);
  const out = await session.clients.s3.send(
    new PutObjectCommand({ Bucket: session.resources.buckets.input, Key: key, Body: body, ContentType: "text/plain; charset=utf-8" }),
  );
  const etag = out.ETag?.replace(/"/g, "");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const list = await session.jobs.getList(kind, name);
    if (list && list.source.key === key && (etag ? list.source.etag === etag : list.registeredAt !== before?.registeredAt)) return list;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`list '${name}' was not registered within ${Math.round(timeoutMs / 1000)} s: is the local stack's event runner running?`);
}

/** One line per list: kind, name, status, and the term count or the reason. */
export function listLine(list: ListRecord): string {
  return `${list.kind}\t${list.name}\t${list.status}\t${list.status === "READY" ? termCount(list.terms.length) : (list.reason ?? "")}`;
}

const termCount = (n: number) => `${n} term${n === 1 ? "" : "s"}`;


export function runVocabulary(action: VocabularyAction): Promise<number> {
  return withStackSession(async (session) => {
    if (action.action === "add") {
      const list = await registerWordList(session, action.kind, action.name, action.file);
      if (list.status === "READY") {
        process.stdout.write(`${action.name}: READY (${termCount(list.terms.length)})\n`);
        return 0;
      }
      process.stderr.write(`${action.name}: REFUSED: ${list.reason ?? "unknown reason"}\n`);
      return 1;
    }
    if (action.action === "list") {
      const lists = (await Promise.all(LIST_KINDS.map((kind) => session.jobs.listLists(kind)))).flat();
      if (lists.length === 0) process.stderr.write("no lists registered; add one with: stt vocabulary add [--filter] <name> <file>\n");
      for (const list of lists) process.stdout.write(`${listLine(list)}\n`);
      return 0;
    }
    const list = await session.jobs.getList(action.kind, action.name);
    if (!list) {
      process.stderr.write(`no ${action.kind === "filter" ? "vocabulary filter" : "vocabulary"} '${action.name}'\n`);
      return 1;
    }
    await session.clients.s3.send(new DeleteObjectCommand({ Bucket: list.source.bucket, Key: list.source.key }));
    await session.jobs.deleteList(action.kind, action.name);
    process.stdout.write(`${action.name}: removed\n`);
    return 0;
  });
}
