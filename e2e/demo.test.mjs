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
  server = spawn(binary, ['serve', '--listen', `127.0.0.1:${port}`], { stdio: 'ignore', env: { ...process.env, RUST_LOG: 'off' } });
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
