// Shared by the browser tests: launch Debian's Chromium through playwright-core (installed by
// run.sh under the build directory), and watch a page for script errors and CSP violations.
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the browser tests through tests/browser/run.sh`);
  return v;
};

export const config = {
  base: () => env('UM_BASE_URL'),
  sample: () => env('UM_SAMPLE'),
  report: () => env('UM_REPORT'),
  shots: () => env('UM_SHOTS'),
  work: () => env('UM_WORK'),
};

export async function launch() {
  const entry = path.join(env('UM_NODE_DIR'), 'node_modules', 'playwright-core', 'index.mjs');
  const { chromium } = await import(pathToFileURL(entry).href);
  return chromium.launch({
    executablePath: env('UM_CHROMIUM'),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// Every console error (CSP violations are reported there), uncaught exception and request
// the page makes, for the tests to assert on.
export function watch(page) {
  const seen = { errors: [], requests: [] };
  page.on('console', (m) => { if (m.type() === 'error') seen.errors.push(m.text()); });
  page.on('pageerror', (e) => seen.errors.push(String(e)));
  page.on('request', (r) => seen.requests.push(r.url()));
  page.on('response', (r) => { if (r.status() >= 400) seen.errors.push(`${r.status()} ${r.url()}`); });
  return seen;
}

export function shot(page, name, options = {}) {
  return page.screenshot({ path: path.join(config.shots(), name), ...options });
}

// How many pixels of a layer's canvas are tinted (alpha > 0): the overlay really shows
// something, not just an element that exists.
export function tintedPixels(page, layer) {
  return page.evaluate((name) => {
    const c = document.querySelector(`canvas.um-layer-canvas[data-layer="${name}"]`);
    if (!c) return -1;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  }, layer);
}

// The state of a layer's canvas: where it is (which pane), shown or not, its opacity.
export function layerState(page, layer) {
  return page.evaluate((name) => {
    const c = document.querySelector(`canvas.um-layer-canvas[data-layer="${name}"]`);
    if (!c) return null;
    const panes = [...c.closest('.um-panes').querySelectorAll('.um-pane')];
    return { hidden: c.hidden, opacity: c.style.opacity, pane: panes.indexOf(c.closest('.um-pane')) };
  }, layer);
}

// Self-contained: no URL to anything outside the file, the image and maps as data URIs.
export function externalReferences(html) {
  const found = [];
  const re = /(?:src|href|action|poster|srcset)\s*=\s*["']?\s*([a-z][a-z0-9+.-]*:\/\/[^"'\s>]*)|url\(\s*["']?([a-z][a-z0-9+.-]*:\/\/[^)"']*)|@import/gi;
  let m;
  while ((m = re.exec(html)) !== null) found.push(m[0]);
  return found;
}
