// The report `unmask report` writes, opened from file:// with the network unreachable: layers
// draw and toggle, nothing is fetched, the print view hides the controls.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { launch, watch, shot, tintedPixels, layerState, externalReferences, config } from './browser.mjs';

let browser, page, seen;

before(async () => {
  browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, offline: true });
  page = await context.newPage();
  seen = watch(page);
  await page.goto('file://' + config.report());
});

after(async () => {
  await browser?.close();
});

test('the report file has no external reference', async () => {
  const html = await readFile(config.report(), 'utf8');
  assert.deepEqual(externalReferences(html), []);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
});

test('the report shows the verdict and draws the layers offline', async () => {
  assert.match(await page.locator('.um-verdict .um-headline').textContent(), /manipulated/i);
  await page.locator('canvas.um-layer-canvas[data-layer="fused"]').waitFor({ state: 'attached' });
  assert.ok(await tintedPixels(page, 'fused') > 100);
  assert.ok(await page.locator('.um-layer').count() >= 3, 'a layer per detector with a map');
  assert.ok(await page.locator('.um-provenance dl dt').count() >= 2, 'provenance facts');
  await shot(page, 'report.png', { fullPage: true });
});

test('a layer toggles and its opacity changes in the report', async () => {
  await page.locator('canvas.um-layer-canvas[data-layer="grid"]').waitFor({ state: 'attached' });
  assert.equal((await layerState(page, 'grid')).hidden, true);
  await page.getByRole('checkbox', { name: /^grid/ }).check();
  assert.equal((await layerState(page, 'grid')).hidden, false);
  assert.ok(await tintedPixels(page, 'grid') > 0);
  await page.getByRole('slider', { name: /Opacity of grid/ }).fill('25');
  assert.equal((await layerState(page, 'grid')).opacity, '0.25');
  await page.getByRole('checkbox', { name: /^grid/ }).uncheck();
  assert.equal((await layerState(page, 'grid')).hidden, true);
});

test('printed, the controls go and the fused overlay, verdict and hash stay', async () => {
  assert.equal(await page.locator('.um-print-only').isVisible(), false, 'screen: one image');
  await page.emulateMedia({ media: 'print' });
  assert.ok(await page.locator('.um-print-only').isVisible(), 'paper: the image without overlay too');
  assert.equal(await page.locator('.um-toolbar').isVisible(), false);
  assert.equal(await page.locator('.um-opacity').first().isVisible(), false);
  assert.ok(await page.locator('canvas.um-layer-canvas[data-layer="fused"]').isVisible());
  assert.ok(await page.locator('.um-verdict').isVisible());
  assert.ok(await page.locator('.um-hash').isVisible());
  const pdf = await page.pdf({ format: 'A4', path: `${config.work()}/report-print.pdf` });
  assert.ok(pdf.length > 10_000, 'a PDF with the image in it');
  await page.emulateMedia({ media: 'screen' });
});

test('nothing was fetched and no script failed', () => {
  assert.deepEqual(seen.requests.filter((u) => !/^(file|data|blob):/.test(u)), []);
  assert.deepEqual(seen.errors, []);
});
