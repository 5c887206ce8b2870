// The web app in a real browser: upload a tampered image, wait for the verdict, work the layers,
// add a note, search the case list, download the report and check it is self-contained.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { launch, watch, shot, tintedPixels, layerState, externalReferences, config } from './browser.mjs';

let browser, context, page, seen, caseUrl, sha256;
const NOTE = 'Checked with the photographer <b>not bold</b> & the agency';

before(async () => {
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  seen = watch(page);
  sha256 = createHash('sha256').update(await readFile(config.sample())).digest('hex');
});

after(async () => {
  await browser?.close();
});

test('the upload page loads under the strict CSP', async () => {
  const res = await page.goto(config.base());
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-security-policy'], /script-src 'self'/);
  await page.getByRole('heading', { name: 'Check images' }).waitFor();
  assert.ok(await page.getByLabel('Images to check').isVisible());
});

test('upload a tampered image and wait for the verdict', async () => {
  await page.setInputFiles('#file-input', config.sample());
  const badge = page.locator('.um-upload .um-badge');
  await badge.waitFor({ timeout: 90_000 });
  assert.match(await badge.textContent(), /manipulated/i);
  await shot(page, 'upload.png');
  await page.getByRole('link', { name: 'Open result' }).click();
  await page.waitForURL(/#\/case\/\d+$/);
  caseUrl = page.url();
  await page.locator('.um-verdict .um-headline').waitFor();
  assert.match(await page.locator('.um-verdict .um-headline').textContent(), /manipulated/i);
  assert.ok(await page.locator('.um-reasons li').count() >= 1, 'the reasons are listed');
  assert.equal(await page.locator('.um-identity .um-hash').textContent(), sha256);
});

test('layers: the fused overlay shows, a layer toggles, opacity and views change', async () => {
  await page.locator('canvas.um-layer-canvas[data-layer="fused"]').waitFor({ state: 'attached' });
  await page.locator('canvas.um-layer-canvas[data-layer="grid"]').waitFor({ state: 'attached' });
  assert.ok(await tintedPixels(page, 'fused') > 100, 'the fused map marks the pasted piece');
  assert.equal((await layerState(page, 'fused')).hidden, false);
  assert.equal((await layerState(page, 'grid')).hidden, true, 'only the fused layer starts on');

  await page.getByRole('checkbox', { name: /^grid/ }).check();
  assert.equal((await layerState(page, 'grid')).hidden, false);
  await page.getByRole('slider', { name: /Opacity of grid/ }).fill('40');
  assert.equal((await layerState(page, 'grid')).opacity, '0.4');
  await page.getByRole('checkbox', { name: /^Fused evidence/ }).uncheck();
  assert.equal((await layerState(page, 'fused')).hidden, true);
  await page.getByRole('checkbox', { name: /^Fused evidence/ }).check();

  await page.getByLabel('Side by side').check();
  assert.equal((await layerState(page, 'grid')).pane, 1, 'side by side: layers beside the image');
  await page.getByLabel('Overlay').check();
  assert.equal((await layerState(page, 'grid')).pane, 0);
  await page.getByRole('button', { name: 'Zoom in' }).click();
  assert.equal(await page.locator('.um-zoom-level').textContent(), '125%');
  await page.getByRole('button', { name: 'Fit the image to the view' }).click();
  await page.getByRole('checkbox', { name: /^grid/ }).uncheck();
  await shot(page, 'result-overlay.png', { fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1500 } });
  assert.ok(await page.locator('.um-provenance dl').count() >= 1, 'the provenance panel');
  assert.ok(await page.locator('.um-detectors tbody tr').count() >= 5, 'the detector table');
});

test('a note is saved, escaped and kept', async () => {
  await page.getByLabel(/Add a note/).fill(NOTE);
  await page.getByRole('button', { name: 'Save note' }).click();
  await page.locator('.um-note-list li', { hasText: 'Checked with the photographer' }).waitFor();
  await page.reload();
  const note = page.locator('.um-note-list .um-note-text').first();
  await note.waitFor();
  assert.equal(await note.textContent(), NOTE, 'the text comes back as text, not markup');
  assert.equal(await page.locator('.um-note-list b').count(), 0);
});

test('the case list searches by name, hash, label and date', async () => {
  await page.getByRole('link', { name: 'Cases' }).click();
  const rows = page.locator('#cases-body tr');
  await rows.first().waitFor();
  assert.equal(await page.locator('#cases-body').getAttribute('aria-busy'), 'false');
  const search = async (fields) => {
    for (const [label, value] of Object.entries(fields)) {
      const f = page.getByLabel(label, { exact: true });
      if ((await f.evaluate((e) => e.tagName)) === 'SELECT') await f.selectOption(value);
      else await f.fill(value);
    }
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('#cases-body[aria-busy="false"]').waitFor({ state: 'attached' });
    return rows.count();
  };
  const today = new Date().toISOString().slice(0, 10);
  assert.equal(await search({ 'Name or SHA-256': 'grid-paste' }), 1);
  assert.equal(await search({ 'Name or SHA-256': 'no-such-file-anywhere' }), 0);
  assert.match(await page.locator('#cases-count').textContent(), /No case matches/);
  assert.equal(await search({ 'Name or SHA-256': sha256.slice(0, 12) }), 1);
  assert.equal(await search({ 'Name or SHA-256': '', Label: 'no-evidence-found' }), 0);
  assert.equal(await search({ Label: 'likely-manipulated' }), 1);
  assert.equal(await search({ Label: '', From: today }), 1);
  assert.equal(await search({ From: '', To: '2000-01-01' }), 0);
  assert.equal(await search({ To: '' }), 1);
  assert.match(await rows.first().locator('td').nth(4).textContent(), /^\d/, 'notes counted');
  await shot(page, 'case-list.png');
});

test('the downloaded report is self-contained and works from file://', async () => {
  await page.goto(caseUrl);
  const link = page.locator('#case-report');
  await link.waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const file = `${config.work()}/downloaded-report.html`;
  await download.saveAs(file);
  assert.match(download.suggestedFilename(), /^unmask-[0-9a-f]{12}\.html$/);
  const html = await readFile(file, 'utf8');
  assert.deepEqual(externalReferences(html), []);
  assert.ok(html.includes(sha256), 'the hash of the analysed bytes');
  assert.ok(html.includes('data:image/png;base64,'), 'image and maps embedded');
  assert.ok(html.includes('Checked with the photographer &lt;b&gt;not bold&lt;/b&gt; &amp; the agency'),
    'the note, escaped');

  const local = await context.newPage();
  const localSeen = watch(local);
  await local.goto('file://' + file);
  await local.locator('canvas.um-layer-canvas[data-layer="fused"]').waitFor({ state: 'attached' });
  assert.ok(await tintedPixels(local, 'fused') > 100);
  assert.deepEqual(localSeen.requests.filter((u) => !/^(file|data|blob):/.test(u)), []);
  assert.deepEqual(localSeen.errors, []);
  await local.close();
});

test('no script error or CSP violation on the web app', () => {
  assert.deepEqual(seen.errors.filter((e) => !/favicon/.test(e)), []);
});
