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
  const q = Object.entries(req.querystring ?? {}).flatMap(([k, v]) =>
    (v.multiValue ?? [v]).map((one) => `${k}=${one.value}`),
  );
  return q.length ? `${req.uri}?${q.join('&')}` : req.uri;
}

/** The URL as the viewer sent it, rebuilt from the event (what "passed unchanged" compares). */
function sent(url: string): string {
  return originOf(event(url).request);
}

const vectors: {
  url: string;
  accept?: string;
  headers?: Record<string, string>;
  origin?: string;
  error?: string;
  message?: string;
  edge?: 'passes';
}[] = JSON.parse(
  readFileSync(path.join(__dirname, '..', '..', 'tests', 'vectors', 'canonical.json'), 'utf8'),
);

test('there are at least 150 shared vectors', () => {
  assert.ok(vectors.length >= 150, `${vectors.length}`);
});

// The function rewrites a vector's URL into its origin form, or — for an error, and for a form
// it leaves to the origin (`"edge": "passes"`) — passes the request on as it came, so the origin
// answers. A parameter the function does not know (an imgix name pixflow refuses, say) may also
// travel beside the origin form: the origin then refuses it by name.
test('the function agrees with every shared vector', () => {
  const handler = load();
  const failures: string[] = [];
  for (const v of vectors) {
    const out = handler(event(v.url, v.accept, v.headers));
    const got = out.statusCode ? `answered ${out.statusCode}` : originOf(out);
    let ok: boolean;
    if (v.origin !== undefined && v.edge !== 'passes') ok = got === v.origin;
    else if (got === sent(v.url)) ok = true;
    else {
      const token = /^`([^`=]+=[^`]*)`/.exec(v.message ?? '')?.[1];
      ok = v.error === 'not_supported' && token !== undefined && got.includes('&' + token) && got.includes('?o=');
    }
    if (!ok) {
      const want = v.origin !== undefined && v.edge !== 'passes' ? v.origin : `${sent(v.url)} (to the origin unchanged)`;
      failures.push(`${v.url} [${v.accept ?? ''} ${JSON.stringify(v.headers ?? {})}]: got ${got}, want ${want}`);
    }
  }
  assert.deepEqual(failures, []);
});

// The second vectors file: AWS's image handler's forms, which the function leaves to the origin
// (tests/it/image_handler.rs checks what the origin reads each one as).
test("AWS's image handler's forms reach the origin unchanged", () => {
  const handlerVectors: { url: string; from: string }[] = JSON.parse(
    readFileSync(path.join(__dirname, '..', '..', 'tests', 'vectors', 'image-handler.json'), 'utf8'),
  );
  assert.ok(handlerVectors.length >= 90, `${handlerVectors.length}`);
  const handler = load();
  const failures = handlerVectors
    .filter((v) => !v.url.startsWith('/-/'))
    .map((v) => ({ v, got: originOf(handler(event(v.url, 'image/avif,image/webp'))) }))
    .filter(({ v, got }) => got !== sent(v.url))
    .map(({ v, got }) => `${v.url}: got ${got}`);
  assert.deepEqual(failures, []);
});

test('a URL the origin refuses goes to the origin unchanged, which answers with the reason', () => {
  const out = load()(event('/w_abc/a.jpg?x=1'));
  assert.equal(out.statusCode, undefined);
  assert.equal(out.uri, '/w_abc/a.jpg');
  assert.deepEqual(out.querystring, { x: { value: '1' } });
  // The function holds no error texts: the origin's are the only ones.
  assert.doesNotMatch(readFileSync(FUNCTION_SOURCE, 'utf8'), /must be|not supported|is given more than once/);
});

test('parameters no one defines travel beside the origin form, keyed by CloudFront', () => {
  const out = load()(event('/a.jpg?w=10&v=2&v=3&ixlib=js-3.8.0', 'image/avif'));
  assert.equal(originOf(out), '/a.jpg?o=w_10&v=2&v=3&ixlib=js-3.8.0');
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
  assert.equal(originOf(handler(event('/w_1001/a.jpg'))), '/w_1001/a.jpg');
  assert.equal(originOf(handler(event('/w_1000/a.jpg'))), '/a.jpg?o=w_1000');
});

test('regression: o= never nests, so 10,000 levels of o_ go to the origin unchanged, not a stack overflow', () => {
  const url = '/rocket.jpg?o=' + 'o_'.repeat(10000) + 'w_1';
  assert.equal(originOf(load()(event(url))), url);
});
