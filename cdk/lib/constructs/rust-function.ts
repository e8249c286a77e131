// The parts both pixflow functions share: the one artifact on provided.al2023, its role and log
// group, the settings every pixflow process reads, and IAM statements scoped to a bucket prefix
// (with cdk-nag's wildcard finding acknowledged for exactly that prefix).
import { Duration, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface RustFunctionProps {
  readonly artifact: string;
  readonly architecture: 'arm64' | 'x86_64';
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly reservedConcurrency?: number;
  readonly source: s3.IBucket;
  readonly sourcePrefix: string;
  readonly results: s3.IBucket;
  readonly resultsPrefix: string;
  readonly maxOutputSide: number;
  readonly presets?: string;
  /** Variants rendered when an original arrives (`--eager`). */
  readonly eager?: string;
  /** Settings of this function only. */
  readonly environment: Record<string, string>;
}

/** A Secrets Manager secret by name, as a dynamic reference: the template never holds the value. */
export function secretReference(name: string): string {
  return SecretValue.secretsManager(name).unsafeUnwrap();
}

/**
 * The function's resources, made directly in `scope` (not a construct of its own, so the image
 * function keeps the logical ids it was first deployed with).
 */
export class RustFunction {
  readonly fn: lambda.Function;
  readonly role: iam.Role;

  constructor(
    private readonly scope: Construct,
    private readonly props: RustFunctionProps,
  ) {
    const logGroup = new logs.LogGroup(scope, 'Logs', { retention: logs.RetentionDays.ONE_MONTH });
    this.role = new iam.Role(scope, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(this.role);
    const environment: Record<string, string> = {
      PIXFLOW_SOURCE: `s3://${props.source.bucketName}/${props.sourcePrefix}`,
      PIXFLOW_RESULT_STORE: `s3://${props.results.bucketName}/${props.resultsPrefix}`,
      PIXFLOW_MAX_OUTPUT_SIDE: String(props.maxOutputSide),
      RUST_LOG: 'pixflow=info',
      ...props.environment,
    };
    if (props.presets) environment.PIXFLOW_PRESETS = props.presets;
    if (props.eager) environment.PIXFLOW_EAGER = props.eager;
    this.fn = new lambda.Function(scope, 'Function', {
      runtime: lambda.Runtime.PROVIDED_AL2023,
      handler: 'bootstrap',
      code: lambda.Code.fromAsset(props.artifact),
      architecture: props.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      memorySize: props.memoryMb,
      timeout: Duration.seconds(props.timeoutSeconds),
      reservedConcurrentExecutions: props.reservedConcurrency,
      role: this.role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment,
    });
  }

  /** `actions` on the objects under `prefix` of `bucket`, and nothing else. */
  allowObjects(sid: string, bucket: s3.IBucket, prefix: string, actions: string[]): void {
    this.role.addToPolicy(new iam.PolicyStatement({ sid, actions, resources: [`${bucket.bucketArn}/${prefix}*`] }));
    // cdk-nag names each wildcard resource it finds; acknowledge exactly this prefix.
    const stack = Stack.of(this.scope);
    const child = bucket.node.defaultChild;
    const arn =
      child instanceof s3.CfnBucket
        ? `<${stack.resolve(stack.getLogicalId(child))}.Arn>`
        : `arn:<AWS::Partition>:s3:::${bucket.bucketName}`;
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${arn}/${prefix}*]`,
      reason:
        'Object keys are only known at request time, so object ARNs end in prefix*; the actions ' +
        'are exact and the resource is one bucket prefix.',
    });
  }

  /**
   * What serving needs: read (and list) the originals, read, write and delete (and list) the
   * results. Statement ids start with `sidPrefix` ('' for the image function).
   */
  allowPipeline(sidPrefix: string): void {
    const p = this.props;
    this.allowObjects(`${sidPrefix}ReadOriginals`, p.source, p.sourcePrefix, ['s3:GetObject']);
    this.allowListing(`${sidPrefix}ListOriginals`, p.source, p.sourcePrefix);
    this.allowObjects(`${sidPrefix}ReadWriteResults`, p.results, p.resultsPrefix, ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']);
    this.allowListing(`${sidPrefix}ListResults`, p.results, p.resultsPrefix);
  }

  /** `s3:ListBucket` on `bucket`, only for keys under `prefix`. */
  allowListing(sid: string, bucket: s3.IBucket, prefix: string): void {
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid,
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
      }),
    );
  }
}
