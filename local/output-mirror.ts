import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";

/**
 * fauxqs keeps objects in memory while dynalite keeps job records on disk.
 * Mirroring the output bucket to a folder keeps the two consistent across a
 * restart: a COMPLETED record still points at transcript files that exist.
 */
export async function saveBucket(s3: S3Client, bucket: string, dir: string, prefix?: string): Promise<number> {
  let saved = 0;
  let token: string | undefined;
  // A prefix's mirror is exact: what was deleted under it (a removed voice clip) must not come back at the next start.
  if (prefix !== undefined) await rm(dir, { recursive: true, force: true });
  do {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token, Prefix: prefix }));
    for (const object of out.Contents ?? []) {
      const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key! }));
      const path = join(dir, object.Key!.slice(prefix?.length ?? 0));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, await body.Body!.transformToByteArray());
      saved++;
    }
    token = out.NextContinuationToken;
  } while (token);
  return saved;
}

export async function restoreBucket(s3: S3Client, bucket: string, dir: string, prefix = ""): Promise<number> {
  let restored = 0;
  for (const path of await listFiles(dir)) {
    const key = prefix + relative(dir, path).split("\\").join("/");
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(path) }));
    restored++;
  }
  return restored;
}

async function listFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(path)));
    else files.push(path);
  }
  return files;
}
