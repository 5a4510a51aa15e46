/**
 * ffmpeg and ffprobe as a Lambda layer (/opt/bin/ffmpeg, /opt/bin/ffprobe).
 * Built from the pinned, maintained static release that `npm run layer:fetch`
 * unpacks into .layer/ffmpeg (infra/ffmpeg-release.ts), once both its archive
 * pin and the binaries' sha256 check out. Without it (no network, offline
 * synth) the layer falls back to the binaries the npm packages
 * @ffmpeg-installer/linux-x64 and @ffprobe-installer/linux-x64 ship, pinned by
 * package-lock.json: the ffmpeg there is a 2018 build, fine for local tests,
 * not for reading untrusted uploads in AWS, so synth warns about it.
 */
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Construct } from "constructs";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { Annotations, AssetHashType, RemovalPolicy } from "aws-cdk-lib";
import { FFMPEG_RELEASE, verifiedRelease, type FfmpegRelease } from "../ffmpeg-release.js";

/** The one architecture of the app: the npm static builds available here are linux-x64. */
export const ARCHITECTURE = lambda.Architecture.X86_64;
export const RUNTIME = lambda.Runtime.NODEJS_22_X;

/** Where the layer's binaries land in the function's file system. */
export const LAYER_BIN = "/opt/bin";

interface Binary {
  name: "ffmpeg" | "ffprobe";
  /** npm package shipping the static build for ARCHITECTURE. */
  pkg: string;
}

const BINARIES: readonly Binary[] = [
  { name: "ffmpeg", pkg: "@ffmpeg-installer/linux-x64" },
  { name: "ffprobe", pkg: "@ffprobe-installer/linux-x64" },
];

export interface FfmpegLayerProps {
  /** Repository root: holds package-lock.json, node_modules and (after `npm run layer:fetch`) .layer/. */
  projectRoot: string;
  /** The pinned release to prefer; tests pass a fake one. */
  release?: FfmpegRelease;
  /**
   * Whether building from the npm binaries is a synth warning (else an info annotation). Default: when the
   * app runs under the CDK CLI (`cdk synth`/`cdk deploy` set CDK_OUTDIR), which is how a stack is deployed.
   */
  warnOnNpmBuild?: boolean;
}

/** The id of the npm-build warning, for `Annotations.acknowledgeWarning` by whoever accepts it. */
export const NPM_BUILD_WARNING = "stt:ffmpeg-layer-from-npm";

export class FfmpegLayer extends Construct {
  readonly layer: lambda.LayerVersion;
  /** What each binary is: the release's version, or package@version as locked. */
  readonly versions: Record<Binary["name"], string>;
  /** The staged layer content: bin/ffmpeg, bin/ffprobe. */
  readonly assetDir: string;
  /** Where the binaries came from: the pinned release, or the npm packages' old build. */
  readonly source: "release" | "npm";

  constructor(scope: Construct, id: string, props: FfmpegLayerProps) {
    super(scope, id);
    const release = props.release ?? FFMPEG_RELEASE;
    const fetched = verifiedRelease(props.projectRoot, release);
    if (fetched.ok) {
      this.source = "release";
      const { manifest } = fetched;
      const label = `ffmpeg ${manifest.version} static (sha256 ${manifest.archiveSha256.slice(0, 12)}…)`;
      this.versions = { ffmpeg: label, ffprobe: label };
      this.assetDir = fetched.dir;
      // The binaries' own hashes: the layer changes exactly when other bytes are unpacked.
      const hash = createHash("sha256").update(JSON.stringify(manifest)).digest("hex");
      this.layer = this.layerVersion(fetched.dir, hash, `ffmpeg/ffprobe ${manifest.version} static release (archive sha256 ${manifest.archiveSha256})`);
      return;
    }
    this.source = "npm";
    const message =
      `ffmpeg layer built from the npm binaries (@ffmpeg-installer, a 2018 ffmpeg), not the pinned ffmpeg ${release.version} ` +
      `release: ${fetched.problem}. Fine for local tests and offline synth; before deploying, run npm run layer:fetch.`;
    if (props.warnOnNpmBuild ?? process.env.CDK_OUTDIR !== undefined) Annotations.of(this).addWarningV2(NPM_BUILD_WARNING, message);
    else Annotations.of(this).addInfo(message);
    const lock = readLock(props.projectRoot);
    const pinned = BINARIES.map((b) => ({ ...b, ...lockedVersion(lock, props.projectRoot, b.pkg) }));
    this.versions = Object.fromEntries(pinned.map((b) => [b.name, `${b.pkg}@${b.version}`])) as Record<Binary["name"], string>;

    // The asset hash is the lock's integrity of both packages: the layer changes
    // exactly when package-lock.json pins other binaries, and synth need not hash 150 MB.
    const hash = createHash("sha256")
      .update(pinned.map((b) => `${b.pkg}@${b.version}#${b.integrity}`).join("\n"))
      .digest("hex");
    const assetDir = stageLayer(props.projectRoot, hash, pinned);
    this.assetDir = assetDir;
    this.layer = this.layerVersion(assetDir, hash, `ffmpeg/ffprobe static binaries (${Object.values(this.versions).join(", ")})`);
  }

  private layerVersion(assetDir: string, hash: string, description: string): lambda.LayerVersion {
    return new lambda.LayerVersion(this, "Layer", {
      code: lambda.Code.fromAsset(assetDir, { assetHash: hash, assetHashType: AssetHashType.CUSTOM }),
      compatibleArchitectures: [ARCHITECTURE],
      compatibleRuntimes: [RUNTIME],
      description,
      // Old versions stay so a rollback can still reference them.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}

interface PackageLock {
  packages?: Record<string, { version?: string; integrity?: string }>;
}

function readLock(projectRoot: string): PackageLock {
  return JSON.parse(readFileSync(join(projectRoot, "package-lock.json"), "utf8")) as PackageLock;
}

function lockedVersion(lock: PackageLock, projectRoot: string, pkg: string): { version: string; integrity: string; dir: string } {
  const locked = lock.packages?.[`node_modules/${pkg}`];
  if (!locked?.version || !locked.integrity) {
    throw new Error(`${pkg} is not in package-lock.json: the ffmpeg layer is built from it (npm ci on linux-x64 installs it)`);
  }
  const dir = join(projectRoot, "node_modules", pkg);
  const installedPath = join(dir, "package.json");
  if (!existsSync(installedPath)) {
    throw new Error(`${pkg} is not installed in node_modules: run npm ci (it is an optional dependency for linux-x64)`);
  }
  const installed = (JSON.parse(readFileSync(installedPath, "utf8")) as { version: string }).version;
  if (installed !== locked.version) {
    throw new Error(`${pkg} installed ${installed} but package-lock.json pins ${locked.version}: run npm ci`);
  }
  return { version: locked.version, integrity: locked.integrity, dir };
}

/**
 * Copies the binaries into `<cache>/<hash>/bin/` once per pinned version. The
 * copies get mode 0755: the npm tarball ships ffprobe as 0744, and Lambda runs
 * the code as a user that does not own /opt, so owner-only execute would fail.
 */
function stageLayer(projectRoot: string, hash: string, pinned: ReadonlyArray<Binary & { dir: string }>): string {
  const root = join(projectRoot, "node_modules", ".cache", "stt-ffmpeg-layer", hash);
  const bin = join(root, "bin");
  mkdirSync(bin, { recursive: true });
  for (const b of pinned) {
    const from = join(b.dir, b.name);
    const to = join(bin, b.name);
    if (!existsSync(to) || statSync(to).size !== statSync(from).size) copyFileSync(from, to);
    chmodSync(to, 0o755);
  }
  return root;
}
