// The event function: the same artifact as a second function (PIXFLOW_LAMBDA_ROLE=events; the
// Function URL function runs in streaming mode and cannot take S3 events), subscribed to the
// source bucket's ObjectCreated and ObjectRemoved notifications under the source prefix. It
// renders the eager variants, purges a changed original's stored variants and invalidates
// `/{key}*` on the distribution. IAM: read the source prefix, read/write/delete the results
// prefix, CreateInvalidation on this distribution only. S3 invokes it asynchronously: a failed
// invocation is retried at most twice and dropped after an hour, so nothing loops.
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import { Construct } from 'constructs';
import { RustFunction, RustFunctionProps } from './rust-function';

export interface EventFunctionProps extends Omit<RustFunctionProps, 'environment' | 'reservedConcurrency'> {
  /** Invalidated when an original changes; none when unset. */
  readonly distribution?: cloudfront.IDistribution;
}

export class EventFunction extends Construct {
  readonly fn: lambda.Function;

  constructor(scope: Construct, id: string, props: EventFunctionProps) {
    super(scope, id);
    const environment: Record<string, string> = { PIXFLOW_LAMBDA_ROLE: 'events' };
    if (props.distribution) environment.PIXFLOW_CLOUDFRONT_DISTRIBUTION_ID = props.distribution.distributionId;
    const f = new RustFunction(this, { ...props, environment });
    this.fn = f.fn;
    f.allowPipeline('Events');
    if (props.distribution) {
      f.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'InvalidateThisDistribution',
          actions: ['cloudfront:CreateInvalidation'],
          resources: [Stack.of(this).formatArn({
            service: 'cloudfront',
            region: '',
            resource: 'distribution',
            resourceName: props.distribution.distributionId,
          })],
        }),
      );
    }
    this.fn.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(1) });
    // Only originals: with no prefix, the whole bucket (no empty filter is allowed).
    const filters: s3.NotificationKeyFilter[] = props.sourcePrefix ? [{ prefix: props.sourcePrefix }] : [];
    const target = new s3n.LambdaDestination(this.fn);
    props.source.addEventNotification(s3.EventType.OBJECT_CREATED, target, ...filters);
    props.source.addEventNotification(s3.EventType.OBJECT_REMOVED, target, ...filters);
    // CDK writes a bucket's notification configuration with its own singleton function.
    const handler = Stack.of(this).node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    if (handler) {
      Validations.of(handler).acknowledge(
        {
          id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason: "CDK's own handler that writes the bucket's notification configuration at deploy time; its role is CDK's.",
        },
        {
          id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
          reason: "CDK's notification handler needs s3:PutBucketNotification on the bucket it is given at deploy time.",
        },
      );
    }
  }
}
