// Alarms on Lambda errors, throttles and p99 duration and on the distribution's 5xx rate, and a
// small dashboard with the same metrics.
import { Duration } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface MonitoringProps {
  readonly fn: lambda.IFunction;
  readonly distribution: cloudfront.Distribution;
  readonly timeoutSeconds: number;
}

export class Monitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const period = Duration.minutes(5);
    const errors = props.fn.metricErrors({ period, statistic: 'Sum' });
    const throttles = props.fn.metricThrottles({ period, statistic: 'Sum' });
    const p99 = props.fn.metricDuration({ period, statistic: 'p99' });
    // CloudFront publishes its metrics in us-east-1.
    const rate5xx = new cloudwatch.Metric({
      namespace: 'AWS/CloudFront',
      metricName: '5xxErrorRate',
      dimensionsMap: { DistributionId: props.distribution.distributionId, Region: 'Global' },
      statistic: 'Average',
      period,
      region: 'us-east-1',
    });
    const alarm = (name: string, metric: cloudwatch.IMetric, threshold: number, what: string) =>
      new cloudwatch.Alarm(this, name, {
        metric,
        threshold,
        evaluationPeriods: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `pixflow: ${what}`,
      });
    this.alarms = [
      alarm('Errors', errors, 5, 'Lambda errors (crashes, not HTTP errors) over 5 in 5 minutes'),
      alarm('Throttles', throttles, 0, 'Lambda throttled: raise reserved concurrency or the account limit'),
      alarm('P99Duration', p99, props.timeoutSeconds * 1000 * 0.8, 'p99 duration above 80% of the timeout'),
      alarm('Edge5xx', rate5xx, 1, 'CloudFront 5xx rate above 1% (deploy in us-east-1 to evaluate it)'),
    ];
    new cloudwatch.Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new cloudwatch.GraphWidget({ title: 'Invocations and errors', left: [props.fn.metricInvocations({ period }), errors] }),
          new cloudwatch.GraphWidget({ title: 'Duration p50 / p99 (ms)', left: [props.fn.metricDuration({ period, statistic: 'p50' }), p99] }),
          new cloudwatch.GraphWidget({ title: 'Throttles', left: [throttles] }),
          new cloudwatch.GraphWidget({ title: 'CloudFront 5xx rate (%)', left: [rate5xx] }),
        ],
      ],
    });
  }
}
