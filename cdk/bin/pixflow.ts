// The CDK app: one PixflowStack, settings from context, cdk-nag's AWS Solutions checks on.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import * as path from 'node:path';
import { readConfig } from '../lib/config';
import { PixflowStack } from '../lib/pixflow-stack';

const app = new App();
const config = readConfig((k) => app.node.tryGetContext(k), path.join(__dirname, '..'));
new PixflowStack(app, app.node.tryGetContext('stackName') ?? 'Pixflow', {
  config,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
