// The demo page as a person sees it: `pixflow serve` on its embedded samples, loaded in headless
// Chromium (Debian's package, driven by playwright-core). Every image must arrive with the size its
// URL promises, f_auto must reach Chromium as AVIF or WebP, and the URL builder must work. A
// screenshot is saved to target/demo.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { thumbHashToAverageRGBA, thumbHashToApproximateAspectRatio } from 'thumbhash';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const binary = process.env.PIXFLOW_BIN ?? path.join(root, 'target', 'debug', 'pixflow');
const browserPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

let server;
let browser;
let base;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitFor(url, ms) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${url} did not answer within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  assert.ok(existsSync(binary), `${binary} is missing: build pixflow first (cargo build)`);
  assert.ok(existsSync(browserPath), `${browserPath} is missing: run scripts/setup`);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // A debug build encodes AVIF slowly and the page asks for dozens of images at once: a long
  // queue wait keeps the back-pressure's 503 (right for a server, tested elsewhere) out of here.
  server = spawn(binary, ['serve', '--listen', `127.0.0.1:${port}`, '--queue-wait-ms', '120000'], { stdio: 'ignore', env: { ...process.env, RUST_LOG: 'off' } });
  await waitFor(`${base}/_/health`, 30000);
  browser = await chromium.launch({
    executablePath: browserPath,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

test('every image on the demo page arrives with the size its URL promises', async () => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const types = new Map();
  page.on('response', (r) => types.set(r.url(), r.headers()['content-type']));
  const resp = await page.goto(`${base}/_/demo`, { waitUntil: 'load' });
  assert.equal(resp.status(), 200);
  await page.waitForFunction(() => [...document.images].filter((i) => i.getAttribute('src')).every((i) => i.complete), null, { timeout: 60000 });
  const images = await page.$$eval('img[src]', (imgs) =>
    imgs.map((i) => ({
      src: i.currentSrc || i.src,
      nw: i.naturalWidth,
      nh: i.naturalHeight,
      w: i.dataset.w ? Number(i.dataset.w) : null,
      h: i.dataset.h ? Number(i.dataset.h) : null,
      maxW: i.dataset.maxW ? Number(i.dataset.maxW) : null,
      maxH: i.dataset.maxH ? Number(i.dataset.maxH) : null,
      auto: i.dataset.auto === '1',
    })),
  );
  assert.ok(images.length >= 20, `only ${images.length} images`);
  for (const i of images) {
    assert.ok(i.nw > 0 && i.nh > 0, `${i.src} did not load`);
    if (i.w !== null) assert.equal(i.nw, i.w, `${i.src} width`);
    if (i.h !== null) assert.equal(i.nh, i.h, `${i.src} height`);
    if (i.maxW !== null) assert.ok(i.nw <= i.maxW && i.nh <= i.maxH, `${i.src} is ${i.nw}x${i.nh}`);
  }
  const autos = images.filter((i) => i.auto);
  assert.ok(autos.length >= 4, 'the gallery uses f_auto');
  for (const i of autos) {
    const type = types.get(i.src);
    assert.ok(type === 'image/avif' || type === 'image/webp', `${i.src} arrived as ${type}`);
  }
  mkdirSync(path.join(root, 'target'), { recursive: true });
  await page.screenshot({ path: path.join(root, 'target', 'demo.png'), fullPage: true });
  await page.close();
});

test('the URL builder shows the image it describes', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/_/demo`);
  await page.fill('input[name=w]', '240');
  await page.fill('input[name=h]', '180');
  await page.selectOption('select[name=c]', 'pad');
  await page.selectOption('select[name=f]', 'webp');
  await page.check('input[name=gray]');
  const loaded = page.waitForResponse((r) => r.url().includes('w_240,h_180,c_pad,f_webp,gray/'));
  await page.click('form button');
  const r = await loaded;
  assert.equal(r.status(), 200);
  assert.equal(r.headers()['content-type'], 'image/webp');
  await page.waitForFunction(() => document.getElementById('result').complete && document.getElementById('result').naturalWidth > 0);
  const size = await page.$eval('#result', (i) => [i.naturalWidth, i.naturalHeight]);
  assert.deepEqual(size, [240, 180]);
  assert.match(await page.textContent('#built'), /^\/w_240,h_180,c_pad,f_webp,gray\//);
  await page.close();
});

test('g_auto moves the crop: at least one smart crop differs from the centred one', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/_/demo`, { waitUntil: 'load' });
  await page.waitForFunction(() => [...document.querySelectorAll('#smart img')].every((i) => i.complete && i.naturalWidth > 0));
  const differing = await page.$$eval('#smart img', (imgs) => {
    const pixels = (img) => {
      const c = document.createElement('canvas');
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      return g.getImageData(0, 0, c.width, c.height).data;
    };
    let n = 0;
    for (let i = 0; i + 1 < imgs.length; i += 2) {
      const [a, b] = [pixels(imgs[i]), pixels(imgs[i + 1])];
      let diff = 0;
      for (let j = 0; j < a.length; j += 4) diff += Math.abs(a[j] - b[j]) + Math.abs(a[j + 1] - b[j + 1]) + Math.abs(a[j + 2] - b[j + 2]);
      if (diff / (a.length / 4) > 6) n++;
    }
    return { n, pairs: imgs.length / 2 };
  });
  assert.ok(differing.pairs >= 2, `${differing.pairs} pairs`);
  assert.ok(differing.n >= 1, 'no g_auto crop moved away from the centre');
  await page.close();
});

test('ThumbHash placeholders decode (reference decoder) to the colour and shape of their image', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/_/demo`, { waitUntil: 'load' });
  await page.waitForFunction(() => document.body.dataset.placeholders === 'done', null, { timeout: 60000 });
  const rows = await page.$$eval('img.placeholder', (imgs) => Promise.all(imgs.map(async (p) => {
    const img = new Image();
    img.src = p.dataset.image;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const avg = [0, 0, 0];
    for (let j = 0; j < d.length; j += 4) for (let k = 0; k < 3; k++) avg[k] += d[j + k];
    return { hash: p.dataset.hash, placeholder: p.src.slice(0, 22), pw: p.naturalWidth, ph: p.naturalHeight,
             avg: avg.map((v) => v / (d.length / 4) / 255), aspect: img.naturalWidth / img.naturalHeight };
  })));
  assert.ok(rows.length >= 2, `${rows.length} placeholders`);
  for (const r of rows) {
    assert.equal(r.placeholder, 'data:image/png;base64,', 'painted from the hash');
    const hash = Uint8Array.from(Buffer.from(r.hash, 'base64'));
    assert.ok(hash.length <= 25, `${hash.length} bytes`);
    const { r: red, g, b } = thumbHashToAverageRGBA(hash);
    for (const [got, want, name] of [[red, r.avg[0], 'r'], [g, r.avg[1], 'g'], [b, r.avg[2], 'b']]) {
      assert.ok(Math.abs(got - want) < 0.1, `${r.hash}: average ${name} ${got.toFixed(3)} vs the image's ${want.toFixed(3)}`);
    }
    const aspect = thumbHashToApproximateAspectRatio(hash);
    assert.ok(Math.abs(aspect - r.aspect) < 0.3, `aspect ${aspect} vs ${r.aspect}`);
    assert.ok(Math.abs(r.pw / r.ph - r.aspect) < 0.3, `the placeholder is ${r.pw}x${r.ph}`);
  }
  const gallery = await page.$$eval('img[data-thumbhash]', (imgs) => imgs.map((i) => i.dataset.hash || ''));
  assert.ok(gallery.length >= 4 && gallery.every((h) => h.length > 20), 'every gallery image has its hash');
  await page.close();
});

for (const dpr of [1, 2]) {
  test(`client hints: dpr_auto and w_auto follow a ${dpr}x screen`, async () => {
    const context = await browser.newContext({ deviceScaleFactor: dpr, viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    // Only the page and its two hinted images: at 2x the gallery's dpr_2 AVIF candidates would
    // keep a debug build's encoder busy long enough for the queue to answer 503.
    await page.route('**/*', (route) => {
      const u = new URL(route.request().url());
      return u.pathname === '/_/demo' || /^\/(dpr_auto|w_auto)/.test(u.pathname) ? route.continue() : route.abort();
    });
    const sent = new Map();
    page.on('request', (r) => sent.set(r.url(), r.headers()));
    const resp = await page.goto(`${base}/_/demo`, { waitUntil: 'load' });
    assert.match(resp.headers()['accept-ch'] ?? '', /Sec-CH-DPR/);
    await page.waitForFunction(() => [...document.querySelectorAll('#hints img')].every((i) => i.complete && i.naturalWidth > 0));
    const [dprImg, wImg] = await page.$$eval('#hints img', (imgs) => imgs.map((i) => ({ src: i.src, nw: i.naturalWidth })));
    assert.equal(sent.get(dprImg.src)?.['sec-ch-dpr'], String(dpr), 'Chromium sent Sec-CH-DPR');
    assert.equal(dprImg.nw, 200 * dpr, 'dpr_auto,w_200');
    assert.equal(sent.get(wImg.src)?.['sec-ch-width'], String(300 * dpr), 'Chromium sent Sec-CH-Width');
    assert.equal(wImg.nw, 300 * dpr, 'w_auto:600 laid out at 300 CSS px');
    await context.close();
  });
}
