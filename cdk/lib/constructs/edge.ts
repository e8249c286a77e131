// CloudFront: the Function URL origin behind Origin Access Control, the viewer-request function
// that canonicalizes URLs, a cache policy keyed only on the canonical URL, short error caching, and
// a response headers policy.
import { Duration, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { functionCode } from '../function-code';

export interface EdgeProps {
  readonly functionUrl: lambda.IFunctionUrl;
  readonly maxOutputSide: number;
  readonly priceClass: '100' | '200' | 'All';
  readonly originShieldRegion?: string;
  readonly domainName?: string;
  readonly certificateArn?: string;
  readonly logs: s3.IBucket;
  /** Adds the `/_/*` behaviour the write endpoints need. */
  readonly writeEndpoints: boolean;
}

const PRICE: Record<EdgeProps['priceClass'], cloudfront.PriceClass> = {
  '100': cloudfront.PriceClass.PRICE_CLASS_100,
  '200': cloudfront.PriceClass.PRICE_CLASS_200,
  All: cloudfront.PriceClass.PRICE_CLASS_ALL,
};

export class Edge extends Construct {
  readonly distribution: cloudfront.Distribution;
  readonly canonicalize: cloudfront.Function;

  constructor(scope: Construct, id: string, props: EdgeProps) {
    super(scope, id);
    this.canonicalize = new cloudfront.Function(this, 'Canonicalize', {
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(functionCode(props.maxOutputSide)),
      comment: 'pixflow: rewrite URLs to /{key}?o={canonical}, resolve f_auto; the rest to the origin as sent',
    });
    const cachePolicy = new cloudfront.CachePolicy(this, 'Canonical', {
      comment: 'pixflow: the URL the function wrote (Accept already folded into o=)',
      // Every query string: the function leaves only o, s, exp and parameters no one defines (a
      // cache buster still busts), or — for what it passes on unchanged — the URL as sent, which
      // the origin must see whole to answer it.
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.all(),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      defaultTtl: Duration.days(365),
      maxTtl: Duration.days(365),
      minTtl: Duration.seconds(0),
      enableAcceptEncodingGzip: false,
      enableAcceptEncodingBrotli: false,
    });
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: 'pixflow: CORS for GET, nosniff, Timing-Allow-Origin',
      corsBehavior: {
        accessControlAllowCredentials: false,
        accessControlAllowHeaders: ['*'],
        accessControlAllowMethods: ['GET', 'HEAD'],
        accessControlAllowOrigins: ['*'],
        accessControlExposeHeaders: ['ETag', 'Server-Timing'],
        accessControlMaxAge: Duration.days(1),
        originOverride: true,
      },
      securityHeadersBehavior: { contentTypeOptions: { override: true } },
      customHeadersBehavior: { customHeaders: [{ header: 'Timing-Allow-Origin', value: '*', override: true }] },
    });
    const origin = origins.FunctionUrlOrigin.withOriginAccessControl(props.functionUrl, {
      originShieldEnabled: props.originShieldRegion !== undefined,
      originShieldRegion: props.originShieldRegion,
      readTimeout: Duration.seconds(60),
    });
    const errorTtl = (httpStatus: number, seconds: number): cloudfront.ErrorResponse => ({
      httpStatus,
      ttl: Duration.seconds(seconds),
    });
    // The write endpoints: every method, nothing cached, no viewer-request rewrite; the API key,
    // the body's type and its SHA-256 (which OAC's signature needs for PUT and POST) and the
    // listing's query string reach the function.
    const additionalBehaviors: Record<string, cloudfront.BehaviorOptions> = {};
    if (props.writeEndpoints) {
      additionalBehaviors['/_/*'] = {
        origin,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        originRequestPolicy: new cloudfront.OriginRequestPolicy(this, 'Writes', {
          comment: 'pixflow: write endpoints (X-Api-Key, Content-Type, x-amz-content-sha256, If-None-Match, query)',
          headerBehavior: cloudfront.OriginRequestHeaderBehavior.allowList(
            'X-Api-Key',
            'Content-Type',
            'x-amz-content-sha256',
            'If-None-Match',
          ),
          queryStringBehavior: cloudfront.OriginRequestQueryStringBehavior.all(),
          cookieBehavior: cloudfront.OriginRequestCookieBehavior.none(),
        }),
        compress: false,
      };
    }
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      additionalBehaviors,
      comment: 'pixflow image CDN',
      defaultBehavior: {
        origin,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
        cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD_OPTIONS,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy,
        responseHeadersPolicy: headers,
        compress: false,
        functionAssociations: [{ function: this.canonicalize, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: PRICE[props.priceClass],
      minimumProtocolVersion: props.certificateArn ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      domainNames: props.domainName ? [props.domainName] : undefined,
      certificate: props.certificateArn
        ? acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn)
        : undefined,
      // 4xx are cached briefly so a fixed page is not pinned to an old error; 5xx are not cached.
      // (CloudFront takes no custom TTL for 413/415/422; the origin's max-age=60 governs those.)
      errorResponses: [400, 403, 404, 405].map((s) => errorTtl(s, 60)).concat(
        [500, 502, 503, 504].map((s) => errorTtl(s, 0)),
      ),
      enableLogging: true,
      logBucket: props.logs,
      logFilePrefix: 'cloudfront/',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions::AwsSolutions-CFR1',
      reason: 'Images are public by design; geographic restriction is a per-deployment business decision.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions::AwsSolutions-CFR2',
      reason: 'Junk URLs are refused at the edge by the viewer-request function; add WAF per deployment if needed.',
    });
    if (!props.certificateArn) {
      Validations.of(this.distribution).acknowledge({
        id: 'AwsSolutions::AwsSolutions-CFR4',
        reason: 'Without a custom domain the default CloudFront certificate is used, which fixes the TLS policy.',
      });
    }
  }
}
