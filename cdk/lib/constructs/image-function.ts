// The Rust Lambda (provided.al2023) with a streaming Function URL behind AWS_IAM auth, and IAM
// that reads only the source prefix and reads/writes/deletes only the results prefix.
import { Duration, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface ImageFunctionProps {
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
  readonly signingSecretName?: string;
  readonly allowUnsignedPresets: boolean;
}

export class ImageFunction extends Construct {
  readonly fn: lambda.Function;
  readonly url: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: ImageFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH });
    const role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);

    const environment: Record<string, string> = {
      PIXFLOW_SOURCE: `s3://${props.source.bucketName}/${props.sourcePrefix}`,
      PIXFLOW_RESULT_STORE: `s3://${props.results.bucketName}/${props.resultsPrefix}`,
      PIXFLOW_MAX_OUTPUT_SIDE: String(props.maxOutputSide),
      RUST_LOG: 'pixflow=info',
    };
    if (props.presets) environment.PIXFLOW_PRESETS = props.presets;
    if (props.allowUnsignedPresets) environment.PIXFLOW_ALLOW_UNSIGNED_PRESETS = 'true';
    if (props.signingSecretName) {
      // A dynamic reference: CloudFormation resolves it at deploy time, the template holds no secret.
      environment.PIXFLOW_SECRET = SecretValue.secretsManager(props.signingSecretName).unsafeUnwrap();
    }

    this.fn = new lambda.Function(this, 'Function', {
      runtime: lambda.Runtime.PROVIDED_AL2023,
      handler: 'bootstrap',
      code: lambda.Code.fromAsset(props.artifact),
      architecture: props.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      memorySize: props.memoryMb,
      timeout: Duration.seconds(props.timeoutSeconds),
      reservedConcurrentExecutions: props.reservedConcurrency,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment,
    });

    const bucketArn = (b: s3.IBucket) => b.bucketArn;
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadOriginals',
        actions: ['s3:GetObject'],
        resources: [`${bucketArn(props.source)}/${props.sourcePrefix}*`],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListOriginals',
        actions: ['s3:ListBucket'],
        resources: [bucketArn(props.source)],
        conditions: { StringLike: { 's3:prefix': [`${props.sourcePrefix}*`] } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadWriteResults',
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        resources: [`${bucketArn(props.results)}/${props.resultsPrefix}*`],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListResults',
        actions: ['s3:ListBucket'],
        resources: [bucketArn(props.results)],
        conditions: { StringLike: { 's3:prefix': [`${props.resultsPrefix}*`] } },
      }),
    );
    // cdk-nag names each wildcard resource it finds; acknowledge exactly those two prefixes.
    const stack = Stack.of(this);
    const arnRef = (b: s3.IBucket): string => {
      const child = b.node.defaultChild;
      return child instanceof s3.CfnBucket
        ? `<${stack.resolve(stack.getLogicalId(child))}.Arn>`
        : `arn:<AWS::Partition>:s3:::${b.bucketName}`;
    };
    const prefixes: [s3.IBucket, string][] = [
      [props.source, props.sourcePrefix],
      [props.results, props.resultsPrefix],
    ];
    for (const [bucket, prefix] of prefixes) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::${arnRef(bucket)}/${prefix}*]`,
        reason:
          'Object keys are only known at request time, so object ARNs end in prefix*; the actions ' +
          'are exact and the resource is one bucket prefix.',
      });
    }

    this.url = this.fn.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.AWS_IAM,
      invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
    });
  }
}
