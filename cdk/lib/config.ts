// Deployment settings, read from CDK context (`cdk deploy -c name=value` or cdk.json), validated
// with messages that name the setting. Defaults are documented in the README.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface PixflowConfig {
  /** Lambda architecture: `arm64` (default, cheaper per GB-second) or `x86_64`. */
  readonly architecture: 'arm64' | 'x86_64';
  /** Lambda memory in MB (1769 MB is one full vCPU). */
  readonly memoryMb: number;
  /** Lambda timeout in seconds. */
  readonly timeoutSeconds: number;
  /** Reserved concurrency, to cap cost; none by default. */
  readonly reservedConcurrency?: number;
  /** Days before a stored result expires from the result bucket. */
  readonly resultTtlDays: number;
  /** CloudFront price class: `100`, `200` or `All`. */
  readonly priceClass: '100' | '200' | 'All';
  /** Origin Shield region, e.g. `eu-west-1`; off when unset. */
  readonly originShieldRegion?: string;
  /** Custom domain (needs `certificateArn`, a us-east-1 ACM certificate). */
  readonly domainName?: string;
  readonly certificateArn?: string;
  /** Serve originals from an existing bucket instead of creating one. */
  readonly sourceBucketName?: string;
  /** Key prefix of the originals in the source bucket ('' or ending in `/`). */
  readonly sourcePrefix: string;
  /** Name of a Secrets Manager secret holding the URL signing secret; unsigned URLs when unset. */
  readonly signingSecretName?: string;
  /**
   * Name of a Secrets Manager secret holding the API key of the write endpoints (`/_/originals`,
   * `/_/jobs`); they and the `/_/*` behaviour that reaches them exist only when it is set.
   */
  readonly apiKeySecretName?: string;
  /** Variants rendered when an original arrives, `w_200,h_200,c_fill;t_thumb`; none by default. */
  readonly eager?: string;
  /**
   * The event function on the source bucket's notifications (purge, invalidation, eager variants);
   * on by default, `-c events=false` leaves it out.
   */
  readonly events: boolean;
  /** Let `t_NAME` URLs through unsigned. */
  readonly allowUnsignedPresets: boolean;
  /** Presets, `name=tokens;name=tokens`. */
  readonly presets?: string;
  /** Largest output side, shared by the function and the edge. */
  readonly maxOutputSide: number;
  /** Folder holding the `bootstrap` built by `cargo lambda build --release --arm64`. */
  readonly artifact: string;
}

type Context = (key: string) => unknown;

function num(ctx: Context, key: string, fallback: number, min: number, max: number): number {
  const raw = ctx(key);
  const v = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new Error(`context ${key}: expected an integer from ${min} to ${max}, got ${String(raw)}`);
  }
  return v;
}

function str(ctx: Context, key: string): string | undefined {
  const v = ctx(key);
  return v === undefined || v === '' ? undefined : String(v);
}

function bool(ctx: Context, key: string, fallback: boolean): boolean {
  const v = str(ctx, key);
  if (v === undefined) return fallback;
  if (v !== 'true' && v !== 'false') throw new Error(`context ${key}: expected true or false, got ${v}`);
  return v === 'true';
}

export function readConfig(ctx: Context, baseDir: string): PixflowConfig {
  const architecture = str(ctx, 'architecture') ?? 'arm64';
  if (architecture !== 'arm64' && architecture !== 'x86_64') {
    throw new Error(`context architecture: expected arm64 or x86_64, got ${architecture}`);
  }
  const priceClass = str(ctx, 'priceClass') ?? '100';
  if (priceClass !== '100' && priceClass !== '200' && priceClass !== 'All') {
    throw new Error(`context priceClass: expected 100, 200 or All, got ${priceClass}`);
  }
  const domainName = str(ctx, 'domainName');
  const certificateArn = str(ctx, 'certificateArn');
  if ((domainName === undefined) !== (certificateArn === undefined)) {
    throw new Error('context domainName and certificateArn go together');
  }
  let sourcePrefix = str(ctx, 'sourcePrefix') ?? '';
  if (sourcePrefix !== '' && !sourcePrefix.endsWith('/')) sourcePrefix += '/';
  const reserved = str(ctx, 'reservedConcurrency');
  const artifact = path.resolve(baseDir, str(ctx, 'artifact') ?? '../target/lambda/pixflow');
  if (!fs.existsSync(path.join(artifact, 'bootstrap'))) {
    throw new Error(
      `No Lambda artifact at ${artifact}/bootstrap. Build it first from the repository root with ` +
        '`cargo lambda build --release --arm64` (or without --arm64 for -c architecture=x86_64), ' +
        'or point -c artifact=DIR at a folder holding `bootstrap`.',
    );
  }
  return {
    architecture,
    memoryMb: num(ctx, 'memoryMb', 1769, 128, 10240),
    timeoutSeconds: num(ctx, 'timeoutSeconds', 30, 3, 900),
    reservedConcurrency: reserved === undefined ? undefined : num(ctx, 'reservedConcurrency', 0, 1, 10000),
    resultTtlDays: num(ctx, 'resultTtlDays', 30, 1, 3650),
    priceClass,
    originShieldRegion: str(ctx, 'originShieldRegion'),
    domainName,
    certificateArn,
    sourceBucketName: str(ctx, 'sourceBucketName'),
    sourcePrefix,
    signingSecretName: str(ctx, 'signingSecretName'),
    apiKeySecretName: str(ctx, 'apiKeySecretName'),
    eager: str(ctx, 'eager'),
    events: bool(ctx, 'events', true),
    allowUnsignedPresets: str(ctx, 'allowUnsignedPresets') === 'true',
    presets: str(ctx, 'presets'),
    maxOutputSide: num(ctx, 'maxOutputSide', 8192, 16, 65535),
    artifact,
  };
}
