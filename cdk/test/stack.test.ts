// The stack's intent, asserted on the synthesized template: OAC on the Function URL origin,
// streaming invoke mode, the cache key, locked-down buckets, exact IAM, alarms; plus cdk-nag,
// cfn-lint and the real `cdk synth`, all offline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readConfig } from '../lib/config';
import { PixflowStack } from '../lib/pixflow-stack';

const ROOT = path.join(__dirname, '..');
/** A stand-in for the `cargo lambda build` output. */
const artifact = fs.mkdtempSync(path.join(os.tmpdir(), 'pixflow-artifact-'));
fs.writeFileSync(path.join(artifact, 'bootstrap'), '#!/bin/sh\n');

function synth(context: Record<string, string> = {}) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixflow-cdk-'));
  const app = new App({ outdir, context: { artifact, ...context } });
  const config = readConfig((k) => app.node.tryGetContext(k), ROOT);
  const stack = new PixflowStack(app, 'Pixflow', { config });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();
  return { stack, template: Template.fromStack(stack), outdir, assembly };
}

const base = synth();
const t = base.template;

test('the Function URL takes only signed (IAM) requests and streams its responses', () => {
  t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', InvokeMode: 'RESPONSE_STREAM' });
  t.hasResourceProperties('AWS::Lambda::Function', {
    Runtime: 'provided.al2023',
    Handler: 'bootstrap',
    Architectures: ['arm64'],
    MemorySize: 1769,
    Timeout: 30,
    Environment: {
      Variables: Match.objectLike({
        PIXFLOW_SOURCE: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
        PIXFLOW_RESULT_STORE: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
        PIXFLOW_MAX_OUTPUT_SIDE: '8192',
      }),
    },
  });
});

test('CloudFront reaches the function through Origin Access Control', () => {
  t.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
    OriginAccessControlConfig: Match.objectLike({
      OriginAccessControlOriginType: 'lambda',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    }),
  });
  t.hasResourceProperties('AWS::Lambda::Permission', {
    Action: 'lambda:InvokeFunctionUrl',
    Principal: 'cloudfront.amazonaws.com',
    SourceArn: Match.anyValue(),
  });
  t.hasResourceProperties('AWS::CloudFront::Distribution', {
    DistributionConfig: Match.objectLike({
      Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue() })],
    }),
  });
});

test('the cache key is the URL the function wrote (o, s, exp and names no one defines), no headers, no cookies', () => {
  t.hasResourceProperties('AWS::CloudFront::CachePolicy', {
    CachePolicyConfig: Match.objectLike({
      DefaultTTL: 31536000,
      ParametersInCacheKeyAndForwardedToOrigin: {
        QueryStringsConfig: { QueryStringBehavior: 'all' },
        HeadersConfig: { HeaderBehavior: 'none' },
        CookiesConfig: { CookieBehavior: 'none' },
        EnableAcceptEncodingGzip: false,
        EnableAcceptEncodingBrotli: false,
      },
    }),
  });
});

test('the distribution: viewer-request function, no compression, HTTP/2 and 3, short error caching', () => {
  t.hasResourceProperties('AWS::CloudFront::Function', {
    FunctionConfig: Match.objectLike({ Runtime: 'cloudfront-js-2.0' }),
    AutoPublish: true,
  });
  t.hasResourceProperties('AWS::CloudFront::Distribution', {
    DistributionConfig: Match.objectLike({
      HttpVersion: 'http2and3',
      PriceClass: 'PriceClass_100',
      DefaultCacheBehavior: Match.objectLike({
        Compress: false,
        ViewerProtocolPolicy: 'redirect-to-https',
        FunctionAssociations: [Match.objectLike({ EventType: 'viewer-request' })],
      }),
      CustomErrorResponses: Match.arrayWith([
        { ErrorCode: 400, ErrorCachingMinTTL: 60 },
        { ErrorCode: 404, ErrorCachingMinTTL: 60 },
        { ErrorCode: 502, ErrorCachingMinTTL: 0 },
      ]),
      Logging: Match.objectLike({ Prefix: 'cloudfront/' }),
    }),
  });
  t.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
    ResponseHeadersPolicyConfig: Match.objectLike({
      CorsConfig: Match.objectLike({
        AccessControlAllowMethods: { Items: ['GET', 'HEAD'] },
        AccessControlAllowOrigins: { Items: ['*'] },
        AccessControlAllowCredentials: false,
      }),
      SecurityHeadersConfig: { ContentTypeOptions: { Override: true } },
      CustomHeadersConfig: { Items: [{ Header: 'Timing-Allow-Origin', Value: '*', Override: true }] },
    }),
  });
});

test('buckets block public access, enforce TLS, and results expire', () => {
  const buckets = t.findResources('AWS::S3::Bucket');
  assert.equal(Object.keys(buckets).length, 3);
  for (const b of Object.values(buckets)) {
    assert.deepEqual(b.Properties.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  }
  const policies = t.findResources('AWS::S3::BucketPolicy');
  assert.equal(Object.keys(policies).length, 3);
  for (const p of Object.values(policies)) {
    const deny = p.Properties.PolicyDocument.Statement.find(
      (s: any) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
    );
    assert.ok(deny, 'every bucket refuses plain HTTP');
  }
  t.hasResourceProperties('AWS::S3::Bucket', {
    LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 30, Status: 'Enabled' })] },
    LoggingConfiguration: Match.objectLike({ LogFilePrefix: 's3/results/' }),
  });
});

/** Every IAM statement of the stack's policies, with the logical id of its policy. */
function statementsOf(template: Template): any[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.entries(policies).flatMap(([id, p]: [string, any]) =>
    p.Properties.PolicyDocument.Statement.map((s: any) => ({ ...s, policy: id })),
  );
}

test('IAM: read only the source prefix; read, write and delete only the results prefix', () => {
  const statements = statementsOf(t);
  const bySid = (sid: string) => statements.find((s: any) => s.Sid === sid);
  assert.equal(bySid('ReadOriginals').Action, 's3:GetObject');
  assert.equal(bySid('ListOriginals').Action, 's3:ListBucket');
  assert.deepEqual(bySid('ListOriginals').Condition, { StringLike: { 's3:prefix': ['*'] } });
  assert.deepEqual(bySid('ReadWriteResults').Action, ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']);
  assert.equal(JSON.stringify(bySid('ReadWriteResults').Resource).includes('/results/*'), true);
  assert.deepEqual(bySid('ListResults').Condition, { StringLike: { 's3:prefix': ['results/*'] } });
  // CDK's own deploy-time handler writes the bucket's notification configuration; nothing else
  // touches a bucket's settings.
  const ours = statements.filter((s: any) => !s.policy.includes('NotificationsHandler'));
  const s3Actions = ours.flatMap((s: any) => [s.Action].flat()).filter((a: string) => a.startsWith('s3:'));
  assert.deepEqual([...new Set(s3Actions)].sort(), ['s3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
  assert.ok(!ours.some((s: any) => s.Resource === '*' && [s.Action].flat().some((a: string) => a.startsWith('s3:'))));
  const handler = statements.filter((s: any) => s.policy.includes('NotificationsHandler'));
  assert.deepEqual(handler.map((s: any) => s.Action), ['s3:PutBucketNotification']);
  // Without the write endpoints the image function never writes originals.
  assert.equal(bySid('WriteOriginals'), undefined);
});

test('the event function: the same artifact as a second function, on created and removed originals, retried at most twice', () => {
  t.hasResourceProperties('AWS::Lambda::Function', {
    Handler: 'bootstrap',
    Environment: {
      Variables: Match.objectLike({
        PIXFLOW_LAMBDA_ROLE: 'events',
        PIXFLOW_CLOUDFRONT_DISTRIBUTION_ID: { Ref: Match.stringLikeRegexp('EdgeDistribution') },
      }),
    },
  });
  const functions = Object.values(t.findResources('AWS::Lambda::Function')) as any[];
  const codes = functions
    .filter((f) => f.Properties.Handler === 'bootstrap')
    .map((f) => JSON.stringify(f.Properties.Code));
  assert.equal(codes.length, 2);
  assert.equal(codes[0], codes[1], 'one artifact, two functions');
  t.hasResourceProperties('Custom::S3BucketNotifications', {
    NotificationConfiguration: {
      LambdaFunctionConfigurations: [
        Match.objectLike({ Events: ['s3:ObjectCreated:*'] }),
        Match.objectLike({ Events: ['s3:ObjectRemoved:*'] }),
      ],
    },
  });
  t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 });
  const prefixed = synth({ sourceBucketName: 'my-photos', sourcePrefix: 'originals' }).template;
  prefixed.hasResourceProperties('Custom::S3BucketNotifications', {
    BucketName: 'my-photos',
    NotificationConfiguration: {
      LambdaFunctionConfigurations: Match.arrayWith([
        Match.objectLike({
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'originals/' }] } },
        }),
      ]),
    },
  });
  const off = synth({ events: 'false' }).template;
  off.resourceCountIs('Custom::S3BucketNotifications', 0);
  assert.equal(Object.values(off.findResources('AWS::Lambda::Function')).length, 1);
});

test('IAM of the event function: read the source prefix, read/write/delete results, invalidate this distribution only', () => {
  const statements = statementsOf(t);
  const bySid = (sid: string) => statements.find((s: any) => s.Sid === sid);
  assert.equal(bySid('EventsReadOriginals').Action, 's3:GetObject');
  assert.deepEqual(bySid('EventsReadWriteResults').Action, ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']);
  const invalidate = bySid('InvalidateThisDistribution');
  assert.equal(invalidate.Action, 'cloudfront:CreateInvalidation');
  assert.match(JSON.stringify(invalidate.Resource), /:distribution\/",\{"Ref":"EdgeDistribution/);
  const cloudfrontStatements = statements.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('cloudfront:')));
  assert.deepEqual(cloudfrontStatements.map((s: any) => s.Sid), ['InvalidateThisDistribution']);
  // Only the event function may invalidate; the image function's role has no CloudFront action.
  assert.equal(invalidate.policy, bySid('EventsReadOriginals').policy);
});

test('write endpoints: off by default; with an API key secret, a /_/* behaviour for every method that caches nothing', () => {
  const none = t.toJSON().Resources;
  const distribution = Object.values(none).find((r: any) => r.Type === 'AWS::CloudFront::Distribution') as any;
  assert.equal(distribution.Properties.DistributionConfig.CacheBehaviors, undefined);
  const { template } = synth({ apiKeySecretName: 'pixflow/api-key', eager: 'w_200,h_200,c_fill' });
  template.hasResourceProperties('AWS::CloudFront::Distribution', {
    DistributionConfig: Match.objectLike({
      CacheBehaviors: [
        Match.objectLike({
          PathPattern: '/_/*',
          AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
          CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
          ViewerProtocolPolicy: 'https-only',
          OriginRequestPolicyId: Match.anyValue(),
        }),
      ],
    }),
  });
  template.hasResourceProperties('AWS::CloudFront::OriginRequestPolicy', {
    OriginRequestPolicyConfig: Match.objectLike({
      HeadersConfig: {
        HeaderBehavior: 'whitelist',
        Headers: ['X-Api-Key', 'Content-Type', 'x-amz-content-sha256', 'If-None-Match'],
      },
      QueryStringsConfig: { QueryStringBehavior: 'all' },
    }),
  });
  const text = JSON.stringify(template.toJSON());
  assert.match(text, /"PIXFLOW_API_KEY":"\{\{resolve:secretsmanager:pixflow\/api-key:SecretString:::\}\}"/);
  assert.equal((text.match(/"PIXFLOW_EAGER":"w_200,h_200,c_fill"/g) ?? []).length, 2, 'both functions render the same eager variants');
  const write = statementsOf(template).find((s: any) => s.Sid === 'WriteOriginals');
  assert.deepEqual(write.Action, ['s3:PutObject', 's3:DeleteObject']);
  assert.match(JSON.stringify(write.Resource), /StorageSource.*"\/\*"/);
  const ctx = (values: Record<string, string>) => (k: string) => values[k];
  assert.throws(() => readConfig(ctx({ artifact, events: 'yes' }), ROOT), /events: expected true or false/);
});

test('alarms on errors, throttles, p99 duration and the edge 5xx rate, and a dashboard', () => {
  const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')) as any[];
  const metrics = alarms.map((a) => a.Properties.MetricName ?? a.Properties.Metrics?.[0]?.MetricStat?.Metric?.MetricName).sort();
  assert.deepEqual(metrics, ['5xxErrorRate', 'Duration', 'Errors', 'Throttles']);
  t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  t.hasOutput('DistributionDomain', {});
  t.hasOutput('ExampleUrl', {});
});

test('regression: the example URL names the key below the source prefix, which pixflow prepends itself', () => {
  const { template } = synth({ sourceBucketName: 'my-photos', sourcePrefix: 'originals' });
  const url = JSON.stringify(template.findOutputs('ExampleUrl'));
  assert.match(url, /\/w_400,h_300,c_fill,f_auto\/photos\/cat\.jpg/);
  assert.doesNotMatch(url, /f_auto\/originals\//);
});

test('an existing source bucket is used by name, and the secret is a reference, never plaintext', () => {
  const { template } = synth({ sourceBucketName: 'my-photos', sourcePrefix: 'originals', signingSecretName: 'pixflow/signing' });
  assert.equal(Object.keys(template.findResources('AWS::S3::Bucket')).length, 2);
  const text = JSON.stringify(template.toJSON());
  assert.match(text, /arn:",\{"Ref":"AWS::Partition"\},":s3:::my-photos\/originals\/\*/);
  assert.match(text, /\{\{resolve:secretsmanager:pixflow\/signing:SecretString:::\}\}/);
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({ Sid: 'ListOriginals', Condition: { StringLike: { 's3:prefix': ['originals/*'] } } }),
      ]),
    },
  });
});

test('x86_64, memory, Origin Shield and a custom domain come from context', () => {
  const { template } = synth({
    architecture: 'x86_64',
    memoryMb: '3008',
    originShieldRegion: 'eu-west-1',
    domainName: 'img.example.com',
    certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
    priceClass: 'All',
  });
  template.hasResourceProperties('AWS::Lambda::Function', { Architectures: ['x86_64'], MemorySize: 3008 });
  template.hasResourceProperties('AWS::CloudFront::Distribution', {
    DistributionConfig: Match.objectLike({
      Aliases: ['img.example.com'],
      PriceClass: 'PriceClass_All',
      Origins: [Match.objectLike({ OriginShield: { Enabled: true, OriginShieldRegion: 'eu-west-1' } })],
      ViewerCertificate: Match.objectLike({ MinimumProtocolVersion: 'TLSv1.2_2021' }),
    }),
  });
});

test('bad settings and a missing artifact stop synth with a clear message', () => {
  const ctx = (values: Record<string, string>) => (k: string) => values[k];
  assert.throws(() => readConfig(ctx({ artifact: '/no/such/dir' }), ROOT), /cargo lambda build --release --arm64/);
  assert.throws(() => readConfig(ctx({ artifact, architecture: 'mips' }), ROOT), /architecture/);
  assert.throws(() => readConfig(ctx({ artifact, memoryMb: '64' }), ROOT), /memoryMb/);
  assert.throws(() => readConfig(ctx({ artifact, domainName: 'a.example.com' }), ROOT), /certificateArn/);
});

test('cdk-nag AwsSolutions checks pass with every suppression justified', () => {
  const report = JSON.parse(fs.readFileSync(path.join(base.outdir, 'validation-report.json'), 'utf8'));
  const nag = report.pluginReports.find((r: any) => r.pluginName === 'AwsSolutions');
  assert.equal(nag.conclusion, 'success');
  assert.deepEqual(nag.violations, []);
  for (const s of nag.suppressedViolations) assert.ok(s.reason.length > 20, s.ruleName);
});

test('cfn-lint finds no errors in the template', () => {
  const file = path.join(base.outdir, 'Pixflow.template.json');
  const lint = path.join(ROOT, '..', 'target', 'tools', 'venv', 'bin', 'cfn-lint');
  assert.ok(fs.existsSync(lint), `${lint} is missing: run scripts/setup`);
  const r = spawnSync(lint, [file], { encoding: 'utf8' });
  // Exit status is a bit mask: 2 errors, 4 warnings, 8 informational.
  assert.equal(r.status! & 2, 0, r.stdout + r.stderr);
  // The only warnings: CDK's redundant DependsOn and the log bucket's ACL for CloudFront logging.
  const codes = [...r.stdout.matchAll(/^(W\d+)/gm)].map((m) => m[1]);
  assert.deepEqual([...new Set(codes)].sort(), ['W3005', 'W3045'].filter((c) => codes.includes(c)));
});

test('the template matches the snapshot (asset hashes scrubbed)', () => {
  const scrub = (s: string) => s.replace(/[0-9a-f]{64}/g, 'HASH');
  const got = scrub(JSON.stringify(t.toJSON(), null, 1));
  const file = path.join(__dirname, 'snapshots', 'Pixflow.template.json');
  if (!fs.existsSync(file) || process.env.UPDATE_SNAPSHOTS === '1') {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, got + '\n');
    if (process.env.UPDATE_SNAPSHOTS !== '1') assert.fail(`created ${file}: review and commit it, then run again`);
  }
  assert.equal(got + '\n', fs.readFileSync(file, 'utf8'));
});

test('the real cdk synth works offline', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'pixflow-synth-'));
  const r = spawnSync('npx', ['cdk', 'synth', '--quiet', '-c', `artifact=${artifact}`, '-o', out], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', AWS_EC2_METADATA_DISABLED: 'true' },
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.ok(fs.existsSync(path.join(out, 'Pixflow.template.json')));
});
