// The viewer-request CloudFront Function, run as CloudFront runs it: the minified code that the
// stack deploys, evaluated with no `require` and no network, against the shared vectors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { functionCode, FUNCTION_SOURCE } from '../lib/function-code';

type Header = { value: string };
type Query = Record<string, { value: string; multiValue?: { value: string }[] }>;
interface CfRequest {
  method: string;
  uri: string;
  querystring: Query;
  headers: Record<string, Header>;
  cookies: Record<string, Header>;
}

const code = functionCode(8192);

function load(): (event: unknown) => any {
  // Only what the cloudfront-js-2.0 runtime offers: no require, process, fetch or timers.
  const sandbox: Record<string, unknown> = {};
  vm.createContext(sandbox);
  vm.runInContext(`${code}\nthis.handler = handler;`, sandbox, { timeout: 1000 });
  return sandbox.handler as (event: unknown) => any;
}

/** The event CloudFront builds for a raw URL: query names and values as received. */
function event(url: string, accept?: string, hints?: Record<string, string>) {
  const [uri, query = ''] = url.split(/\?(.*)/s);
  const querystring: Query = {};
  for (const pair of query.split('&').filter((p) => p !== '')) {
    const i = pair.indexOf('=');
    const [name, value] = i < 0 ? [pair, ''] : [pair.slice(0, i), pair.slice(i + 1)];
    const prev = querystring[name];
    if (!prev) querystring[name] = { value };
    else querystring[name] = { value: prev.value, multiValue: [...(prev.multiValue ?? [{ value: prev.value }]), { value }] };
  }
  const headers: Record<string, Header> = { host: { value: 'd111111abcdef8.cloudfront.net' } };
  if (accept !== undefined) headers.accept = { value: accept };
  for (const [name, value] of Object.entries(hints ?? {})) headers[name] = { value };
  const request: CfRequest = { method: 'GET', uri, querystring, headers, cookies: {} };
  return { version: '1.0', context: { eventType: 'viewer-request' }, viewer: { ip: '198.51.100.1' }, request };
}

function originOf(req: CfRequest): string {
  const q = Object.entries(req.querystring ?? {}).map(([k, v]) => `${k}=${v.value}`);
  return q.length ? `${req.uri}?${q.join('&')}` : req.uri;
}

const vectors: {
  url: string;
  accept?: string;
  headers?: Record<string, string>;
  origin?: string;
  error?: string;
  message?: string;
}[] = JSON.parse(
  readFileSync(path.join(__dirname, '..', '..', 'tests', 'vectors', 'canonical.json'), 'utf8'),
);

test('there are at least 150 shared vectors', () => {
  assert.ok(vectors.length >= 150, `${vectors.length}`);
});

test('the function agrees with every shared vector', () => {
  const handler = load();
  const failures: string[] = [];
  for (const v of vectors) {
    const out = handler(event(v.url, v.accept, v.headers));
    const body = out.statusCode ? JSON.parse(out.body) : null;
    const got = body ? { error: body.error, message: body.message, status: out.statusCode } : { origin: originOf(out) };
    const want = v.origin !== undefined ? { origin: v.origin } : { error: v.error, message: v.message, status: 400 };
    try {
      assert.deepEqual(got, want);
    } catch {
      failures.push(`${v.url} [${v.accept ?? ''} ${JSON.stringify(v.headers ?? {})}]: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('errors are JSON with a short public cache lifetime', () => {
  const out = load()(event('/w_abc/a.jpg'));
  assert.equal(out.statusCode, 400);
  assert.equal(out.headers['content-type'].value, 'application/json');
  assert.equal(out.headers['cache-control'].value, 'public, max-age=60');
  assert.match(JSON.parse(out.body).message, /w_abc/);
});

test("the service's own endpoints pass through untouched", () => {
  const out = load()(event('/_/health?x=1'));
  assert.equal(out.uri, '/_/health');
  assert.deepEqual(out.querystring, { x: { value: '1' } });
});

test('the deployed code fits CloudFront Functions limits', () => {
  assert.ok(Buffer.byteLength(code) <= 10 * 1024, `${Buffer.byteLength(code)} bytes`);
  const source = readFileSync(FUNCTION_SOURCE, 'utf8');
  // cloudfront-js-2.0 offers no modules beyond its own (crypto, cloudfront) and no network.
  assert.doesNotMatch(source, /\brequire\s*\(|\bimport\b|\bfetch\s*\(|XMLHttpRequest|setTimeout|process\./);
  assert.match(code, /function handler\(/);
});

test('the output side limit is the one the stack configures', () => {
  const handler = (() => {
    const sandbox: Record<string, unknown> = {};
    vm.createContext(sandbox);
    vm.runInContext(`${functionCode(1000)}\nthis.handler = handler;`, sandbox);
    return sandbox.handler as (event: unknown) => any;
  })();
  assert.equal(handler(event('/w_1001/a.jpg')).statusCode, 400);
  assert.equal(originOf(handler(event('/w_1000/a.jpg'))), '/a.jpg?o=w_1000');
});

test('regression: o= never nests, so 10,000 levels of o_ are one 400, not a stack overflow', () => {
  const out = load()(event('/rocket.jpg?o=' + 'o_'.repeat(10000) + 'w_1'));
  assert.equal(out.statusCode, 400);
  assert.equal(JSON.parse(out.body).error, 'bad_option');
  assert.match(JSON.parse(out.body).message, /cannot nest/);
});
