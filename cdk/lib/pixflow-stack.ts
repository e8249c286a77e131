// The stack only composes: storage, the image function, the edge, the event function, monitoring,
// and the outputs.
import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { PixflowConfig } from './config';
import { Edge } from './constructs/edge';
import { EventFunction } from './constructs/event-function';
import { ImageFunction } from './constructs/image-function';
import { Monitoring } from './constructs/monitoring';
import { Storage } from './constructs/storage';

export interface PixflowStackProps extends StackProps {
  readonly config: PixflowConfig;
}

export const RESULTS_PREFIX = 'results/';

export class PixflowStack extends Stack {
  constructor(scope: Construct, id: string, props: PixflowStackProps) {
    super(scope, id, props);
    const c = props.config;
    const storage = new Storage(this, 'Storage', { sourceBucketName: c.sourceBucketName, resultTtlDays: c.resultTtlDays });
    // What both functions (the same artifact) are given.
    const shared = {
      artifact: c.artifact,
      architecture: c.architecture,
      memoryMb: c.memoryMb,
      source: storage.source,
      sourcePrefix: c.sourcePrefix,
      results: storage.results,
      resultsPrefix: RESULTS_PREFIX,
      maxOutputSide: c.maxOutputSide,
      presets: c.presets,
      eager: c.eager,
    };
    const image = new ImageFunction(this, 'Image', {
      ...shared,
      timeoutSeconds: c.timeoutSeconds,
      reservedConcurrency: c.reservedConcurrency,
      signingSecretName: c.signingSecretName,
      allowUnsignedPresets: c.allowUnsignedPresets,
      apiKeySecretName: c.apiKeySecretName,
    });
    const edge = new Edge(this, 'Edge', {
      functionUrl: image.url,
      maxOutputSide: c.maxOutputSide,
      priceClass: c.priceClass,
      originShieldRegion: c.originShieldRegion,
      domainName: c.domainName,
      certificateArn: c.certificateArn,
      logs: storage.logs,
      writeEndpoints: c.apiKeySecretName !== undefined,
    });
    if (c.events) {
      new EventFunction(this, 'Events', {
        ...shared,
        // Eager variants of a large original may take longer than one request may.
        timeoutSeconds: Math.max(c.timeoutSeconds, 60),
        distribution: edge.distribution,
      });
    }
    new Monitoring(this, 'Monitoring', { fn: image.fn, distribution: edge.distribution, timeoutSeconds: c.timeoutSeconds });
    const domain = c.domainName ?? edge.distribution.distributionDomainName;
    new CfnOutput(this, 'DistributionDomain', { value: edge.distribution.distributionDomainName });
    new CfnOutput(this, 'SourceBucket', { value: storage.source.bucketName });
    new CfnOutput(this, 'ExampleUrl', {
      // pixflow prepends the source prefix itself: the URL names the key below it.
      value: `https://${domain}/w_400,h_300,c_fill,f_auto/photos/cat.jpg`,
      description: `Upload photos/cat.jpg to the source bucket as ${c.sourcePrefix}photos/cat.jpg, then open this.`,
    });
  }
}
