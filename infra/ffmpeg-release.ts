/**
 * The ffmpeg/ffprobe the Lambda layer should carry: a maintained static
 * release, pinned by version and sha256. `npm run layer:fetch` downloads it
 * (or takes an archive already on disk: `-- --archive <file>`), verifies the
 * archive, and unpacks the two binaries into `.layer/ffmpeg/bin/` with a
 * manifest of their own sha256; the layer construct (constructs/ffmpeg-layer.ts)
 * re-checks both before using them. `.layer/` ignores itself in git.
 *
 * Where a newer pin is wanted: take the version's `.tar.xz` from
 * https://johnvansickle.com/ffmpeg/, compute its sha256 (`sha256sum`), and
 * change FFMPEG_RELEASE; the next synth refuses the old unpacked copy.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export interface FfmpegRelease {
  version: string;
  /** Where the archive may be fetched, in order; the sha256 is the pin, whatever the source. */
  urls: readonly string[];
  sha256: string;
  /** The folder inside the archive that holds `ffmpeg` and `ffprobe`. */
  innerDir: string;
}

/**
 * John Van Sickle's static amd64 build of FFmpeg 7.0.2 (GPL, x86_64 like the functions). The site moves a
 * release from releases/ to old-releases/ when a newer one comes out; the bytes (and so the sha256) stay.
 */
export const FFMPEG_RELEASE: FfmpegRelease = {
  version: "7.0.2",
  urls: [
    "https://johnvansickle.com/ffmpeg/releases/ffmpeg-7.0.2-amd64-static.tar.xz",
    "https://johnvansickle.com/ffmpeg/old-releases/ffmpeg-7.0.2-amd64-static.tar.xz",
  ],
  sha256: "abda8d77ce8309141f83ab8edf0596834087c52467f6badf376a6a2a4c87cf67",
  innerDir: "ffmpeg-7.0.2-amd64-static",
};

/** Under the project root: `.layer/ffmpeg/bin/{ffmpeg,ffprobe}` is the layer's content. */
export const LAYER_WORK_DIR = ".layer";
export const RELEASE_LAYER_DIR = join(LAYER_WORK_DIR, "ffmpeg");
export const RELEASE_MANIFEST = join(LAYER_WORK_DIR, "ffmpeg.json");
const BINARIES = ["ffmpeg", "ffprobe"] as const;

export interface ReleaseManifest {
  version: string;
  archiveSha256: string;
  binaries: Record<(typeof BINARIES)[number], string>;
}

/** sha256 of a file, read in 1 MB pieces (the binaries are ~80 MB each). */
export function sha256File(path: string): string {
  const hash = createHash("sha256");
  const buffer = Buffer.alloc(1 << 20);
  const fd = openSync(path, "r");
  try {
    for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0; ) hash.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

/**
 * Verifies `archive` against the pin and unpacks ffmpeg and ffprobe into `<root>/.layer/ffmpeg/bin` (mode
 * 0755: Lambda does not run as the files' owner), writing the manifest last: a half-done unpack is never used.
 */
export function unpackRelease(archive: string, root: string, release: FfmpegRelease = FFMPEG_RELEASE): ReleaseManifest {
  const archiveSha256 = sha256File(archive);
  if (archiveSha256 !== release.sha256) {
    throw new Error(`${basename(archive)}: sha256 ${archiveSha256} is not the pinned ${release.sha256} (ffmpeg ${release.version}); refusing it`);
  }
  const work = join(root, LAYER_WORK_DIR);
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, ".gitignore"), "# Downloaded ffmpeg release (npm run layer:fetch): never committed.\n*\n");
  rmSync(join(root, RELEASE_MANIFEST), { force: true });
  const tmp = mkdtempSync(join(work, "unpack-"));
  try {
    execFileSync("tar", ["-xJf", archive, "-C", tmp, ...BINARIES.map((b) => `${release.innerDir}/${b}`)], { stdio: "inherit" });
    const bin = join(root, RELEASE_LAYER_DIR, "bin");
    rmSync(join(root, RELEASE_LAYER_DIR), { recursive: true, force: true });
    mkdirSync(bin, { recursive: true });
    const binaries = {} as ReleaseManifest["binaries"];
    for (const b of BINARIES) {
      const to = join(bin, b);
      renameSync(join(tmp, release.innerDir, b), to);
      chmodSync(to, 0o755);
      binaries[b] = sha256File(to);
    }
    const manifest: ReleaseManifest = { version: release.version, archiveSha256, binaries };
    writeFileSync(join(root, RELEASE_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export type ReleaseCheck = { ok: true; dir: string; manifest: ReleaseManifest } | { ok: false; problem: string };

/** Whether `<root>/.layer/ffmpeg` holds exactly the pinned release, re-hashing each binary. */
export function verifiedRelease(root: string, release: FfmpegRelease = FFMPEG_RELEASE): ReleaseCheck {
  const manifestPath = join(root, RELEASE_MANIFEST);
  if (!existsSync(manifestPath)) return { ok: false, problem: "no fetched release (npm run layer:fetch has not run here)" };
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as ReleaseManifest;
  if (manifest.archiveSha256 !== release.sha256) {
    return { ok: false, problem: `the fetched release is ffmpeg ${manifest.version}, not the pinned ${release.version}` };
  }
  const dir = join(root, RELEASE_LAYER_DIR);
  for (const b of BINARIES) {
    const file = join(dir, "bin", b);
    if (!existsSync(file)) return { ok: false, problem: `${b} is missing from ${RELEASE_LAYER_DIR}/bin` };
    if (sha256File(file) !== manifest.binaries[b]) return { ok: false, problem: `${RELEASE_LAYER_DIR}/bin/${b} does not match its recorded sha256` };
  }
  return { ok: true, dir, manifest };
}

async function download(urls: readonly string[], to: string): Promise<void> {
  const failures: string[] = [];
  for (const url of urls) {
    try {
      const response = await fetch(url, { redirect: "follow" });
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      writeFileSync(`${to}.part`, Buffer.from(await response.arrayBuffer()));
      renameSync(`${to}.part`, to);
      return;
    } catch (error) {
      failures.push(`${url}: ${(error as Error).message}`);
    }
  }
  throw new Error(`could not download the ffmpeg release:\n  ${failures.join("\n  ")}`);
}

/** `npm run layer:fetch [-- --archive <file>]`, from the project root. */
async function main(argv: string[]): Promise<void> {
  const root = process.cwd();
  const given = argv.indexOf("--archive");
  const cacheDir = join(root, LAYER_WORK_DIR, "cache");
  const pinnedName = join(cacheDir, basename(new URL(FFMPEG_RELEASE.urls[0]).pathname));
  let archive = given >= 0 ? resolve(argv[given + 1] ?? "") : pinnedName;
  if (given < 0 && !(existsSync(archive) && sha256File(archive) === FFMPEG_RELEASE.sha256)) {
    mkdirSync(cacheDir, { recursive: true });
    console.log(`downloading ffmpeg ${FFMPEG_RELEASE.version} (pinned sha256 ${FFMPEG_RELEASE.sha256})`);
    await download(FFMPEG_RELEASE.urls, archive);
  } else if (given >= 0) {
    // Keep a copy beside the others, so a later run needs neither the network nor the flag.
    mkdirSync(cacheDir, { recursive: true });
    unpackRelease(archive, root);
    if (pinnedName !== archive) copyFileSync(archive, pinnedName);
    archive = pinnedName;
  }
  const manifest = unpackRelease(archive, root);
  console.log(`ffmpeg ${manifest.version} verified and unpacked to ${RELEASE_LAYER_DIR}/bin; the next synth builds the layer from it`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(`layer:fetch failed: ${(error as Error).message}`);
    process.exit(1);
  });
}
