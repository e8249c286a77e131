// The Function URL function: the Rust Lambda with a streaming Function URL behind AWS_IAM auth,
// and IAM that reads only the source prefix and reads/writes/deletes only the results prefix —
// plus writing and deleting originals under the source prefix when the write endpoints are on.
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { RustFunction, RustFunctionProps, secretReference } from './rust-function';

export interface ImageFunctionProps extends Omit<RustFunctionProps, 'environment'> {
  readonly signingSecretName?: string;
  readonly allowUnsignedPresets: boolean;
  /** Name of a Secrets Manager secret holding the write endpoints' API key; off when unset. */
  readonly apiKeySecretName?: string;
}

export class ImageFunction extends Construct {
  readonly fn: lambda.Function;
  readonly url: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: ImageFunctionProps) {
    super(scope, id);
    const environment: Record<string, string> = {};
    if (props.allowUnsignedPresets) environment.PIXFLOW_ALLOW_UNSIGNED_PRESETS = 'true';
    // Dynamic references: CloudFormation resolves them at deploy time, the template holds no secret.
    if (props.signingSecretName) environment.PIXFLOW_SECRET = secretReference(props.signingSecretName);
    if (props.apiKeySecretName) environment.PIXFLOW_API_KEY = secretReference(props.apiKeySecretName);
    const f = new RustFunction(this, { ...props, environment });
    this.fn = f.fn;
    f.allowPipeline('');
    if (props.apiKeySecretName) {
      // PUT and DELETE /_/originals; the prefix is acknowledged once (ReadOriginals) already.
      f.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'WriteOriginals',
          actions: ['s3:PutObject', 's3:DeleteObject'],
          resources: [`${props.source.bucketArn}/${props.sourcePrefix}*`],
        }),
      );
    }
    this.url = this.fn.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.AWS_IAM,
      invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
    });
  }
}
