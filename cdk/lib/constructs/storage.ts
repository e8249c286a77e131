// The buckets: originals (new, or an existing one by name), results with lifecycle expiry, and
// the access-log bucket both write to. Public access blocked, TLS enforced, encrypted at rest.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface StorageProps {
  readonly sourceBucketName?: string;
  readonly resultTtlDays: number;
}

export class Storage extends Construct {
  readonly source: s3.IBucket;
  readonly results: s3.Bucket;
  readonly logs: s3.Bucket;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const safe = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
    };
    this.logs = new s3.Bucket(this, 'Logs', {
      ...safe,
      // CloudFront standard logging writes with ACLs.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // A log bucket that logged its own access would log forever.
    Validations.of(this.logs).acknowledge({ id: 'AwsSolutions::AwsSolutions-S1', reason: 'This is the access-log bucket.' });
    this.source = props.sourceBucketName
      ? s3.Bucket.fromBucketName(this, 'Source', props.sourceBucketName)
      : new s3.Bucket(this, 'Source', {
          ...safe,
          serverAccessLogsBucket: this.logs,
          serverAccessLogsPrefix: 's3/source/',
          versioned: true,
          removalPolicy: RemovalPolicy.RETAIN,
        });
    this.results = new s3.Bucket(this, 'Results', {
      ...safe,
      serverAccessLogsBucket: this.logs,
      serverAccessLogsPrefix: 's3/results/',
      lifecycleRules: [{ expiration: Duration.days(props.resultTtlDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
