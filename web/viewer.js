/* unmask viewer: the image with one evidence layer per detector (toggle, opacity, overlay or
 * side-by-side, zoom and pan), the detector table and the provenance panel, drawn from one
 * analysis record (the JSON of `unmask analyze --json`). The same file runs inlined in the
 * self-contained HTML report and served to the web app; it never fetches anything itself and
 * only ever writes text through textContent, so nothing from a file becomes markup.
 *
 * Maps arrive as 8-bit grayscale PNGs (255 = strongest evidence) and are coloured here on a
 * canvas, with the ramp of the CLI's overlay PNG (src/report/maps.c): weak evidence below 0.3
 * stays clear, then yellow turning red, more opaque as the evidence grows. */
(function (global) {
  'use strict';

  var WEAK = 0.3;
  var MAX_ROWS = 400;   /* rows of one metadata table: a hostile file may carry thousands */
  var MAX_TEXT = 400;   /* characters of one shown value */
  var MAX_DEPTH = 16;   /* levels of a metadata object walked */

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function cut(s) {
    s = String(s);
    return s.length > MAX_TEXT ? s.slice(0, MAX_TEXT) + '\u2026' : s;
  }

  function fmt(v, digits) {
    return typeof v === 'number' && isFinite(v) ? v.toFixed(digits) : '\u2013';
  }

  /* ---- colouring a grayscale map ---------------------------------------------------------- */

  function colourise(img) {
    var c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    var g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    var d = g.getImageData(0, 0, c.width, c.height);
    var p = d.data;
    for (var i = 0; i < p.length; i += 4) {
      var a = p[i] / 255;
      p[i] = 255;
      p[i + 1] = Math.round(255 * (1 - a));
      p[i + 2] = 0;
      p[i + 3] = a < WEAK ? 0 : Math.round(255 * (0.3 + 0.5 * (a - WEAK) / (1 - WEAK)));
    }
    g.putImageData(d, 0, 0);
    c.className = 'um-layer-canvas';
    return c;
  }

  function loadImage(src) {
    return new Promise(function (resolve, reject) {
      var img = new Image();
      img.onload = function () { resolve(img); };
      img.onerror = function () { reject(new Error('cannot load ' + src)); };
      img.src = src;
    });
  }

  /* ---- the layer viewer ------------------------------------------------------------------- */

  function detectorList(result) {
    return Array.isArray(result && result.detectors) ? result.detectors : [];
  }

  /* fused first, then the applicable detectors in registry order, each with a map. */
  function layerSpecs(data) {
    var maps = data.maps || {};
    var specs = [];
    if (maps.fused) specs.push({ name: 'fused', title: 'Fused evidence', score: data.result &&
      data.result.verdict ? data.result.verdict.score : null, src: maps.fused });
    detectorList(data.result).forEach(function (d) {
      if (d.applicable && maps[d.name] && typeof d.name === 'string')
        specs.push({ name: d.name, title: d.name + ' (' + d.family + ')', score: d.score,
          src: maps[d.name] });
    });
    return specs;
  }

  function Viewer(root, data) {
    this.root = root;
    this.scale = 1;
    this.tx = 0;
    this.ty = 0;
    this.layers = [];
    this.mode = 'overlay';
    root.textContent = '';
    root.classList.add('um-viewer');
    this.build(data);
  }

  Viewer.prototype.build = function (data) {
    var self = this;
    var uid = 'umv' + Math.random().toString(36).slice(2, 8);
    var bar = el('div', 'um-toolbar');
    bar.setAttribute('role', 'toolbar');
    bar.setAttribute('aria-label', 'Viewer controls');
    var modes = el('fieldset', 'um-modes');
    modes.appendChild(el('legend', null, 'View'));
    [['overlay', 'Overlay'], ['side', 'Side by side']].forEach(function (m, i) {
      var id = uid + '-mode-' + m[0];
      var r = el('input');
      r.type = 'radio';
      r.name = uid + '-mode';
      r.id = id;
      r.value = m[0];
      r.checked = i === 0;
      r.addEventListener('change', function () { self.setMode(m[0]); });
      var l = el('label', null, m[1]);
      l.htmlFor = id;
      modes.appendChild(r);
      modes.appendChild(l);
    });
    bar.appendChild(modes);
    var zoom = el('div', 'um-zoom');
    [['\u2212', 'Zoom out', function () { self.zoomBy(1 / 1.25); }],
     ['+', 'Zoom in', function () { self.zoomBy(1.25); }],
     ['Fit', 'Fit the image to the view', function () { self.fit(); }]].forEach(function (b) {
      var btn = el('button', 'um-btn', b[0]);
      btn.type = 'button';
      btn.setAttribute('aria-label', b[1]);
      btn.title = b[1];
      btn.addEventListener('click', b[2]);
      zoom.appendChild(btn);
    });
    this.zoomLabel = el('span', 'um-zoom-level', '100%');
    this.zoomLabel.setAttribute('aria-live', 'polite');
    zoom.appendChild(this.zoomLabel);
    bar.appendChild(zoom);
    this.root.appendChild(bar);

    var body = el('div', 'um-body');
    this.list = el('ul', 'um-layer-list');
    this.list.setAttribute('aria-label', 'Evidence layers');
    body.appendChild(this.list);
    var panes = el('div', 'um-panes');
    this.paneImage = this.makePane('Image with evidence layers');
    this.paneMaps = this.makePane('Evidence layers alone');
    this.paneMaps.pane.hidden = true;
    panes.appendChild(this.paneImage.pane);
    panes.appendChild(this.paneMaps.pane);
    body.appendChild(panes);
    this.root.appendChild(body);

    if (!data.image) {
      this.root.appendChild(el('p', 'um-muted', 'The image is not available.'));
      return;
    }
    var main = el('img', 'um-base');
    main.alt = 'The analysed image';
    main.src = data.image;
    this.paneImage.wrap.appendChild(main);
    /* On paper the image also appears without any overlay, beside the overlaid one. */
    var plain = el('figure', 'um-print-only');
    var copy = el('img', 'um-base');
    copy.alt = '';
    copy.src = data.image;
    plain.appendChild(copy);
    plain.appendChild(el('figcaption', null, 'The image as analysed, without overlay'));
    this.paneImage.pane.parentNode.insertBefore(plain, this.paneImage.pane);
    var dim = el('img', 'um-base um-dim');
    dim.alt = '';
    dim.src = data.image;
    this.paneMaps.wrap.appendChild(dim);
    layerSpecs(data).forEach(function (spec, i) { self.addLayer(spec, i === 0); });
  };

  Viewer.prototype.makePane = function (label) {
    var self = this;
    var pane = el('div', 'um-pane');
    pane.tabIndex = 0;
    pane.setAttribute('role', 'img');
    pane.setAttribute('aria-label', label + ' (arrow keys pan, + and - zoom, 0 fits)');
    var wrap = el('div', 'um-wrap');
    pane.appendChild(wrap);
    pane.addEventListener('wheel', function (ev) {
      ev.preventDefault();
      var r = pane.getBoundingClientRect();
      self.zoomBy(ev.deltaY < 0 ? 1.15 : 1 / 1.15, ev.clientX - r.left, ev.clientY - r.top);
    }, { passive: false });
    var drag = null;
    pane.addEventListener('pointerdown', function (ev) {
      drag = { x: ev.clientX, y: ev.clientY, tx: self.tx, ty: self.ty };
      pane.setPointerCapture(ev.pointerId);
    });
    pane.addEventListener('pointermove', function (ev) {
      if (!drag) return;
      self.tx = drag.tx + ev.clientX - drag.x;
      self.ty = drag.ty + ev.clientY - drag.y;
      self.apply();
    });
    pane.addEventListener('pointerup', function () { drag = null; });
    pane.addEventListener('pointercancel', function () { drag = null; });
    pane.addEventListener('keydown', function (ev) {
      var step = 40, handled = true;
      if (ev.key === '+' || ev.key === '=') self.zoomBy(1.25);
      else if (ev.key === '-') self.zoomBy(1 / 1.25);
      else if (ev.key === '0') self.fit();
      else if (ev.key === 'ArrowLeft') self.tx += step;
      else if (ev.key === 'ArrowRight') self.tx -= step;
      else if (ev.key === 'ArrowUp') self.ty += step;
      else if (ev.key === 'ArrowDown') self.ty -= step;
      else handled = false;
      if (handled) { ev.preventDefault(); self.apply(); }
    });
    return { pane: pane, wrap: wrap };
  };

  Viewer.prototype.addLayer = function (spec, on) {
    var self = this;
    var id = 'uml-' + Math.random().toString(36).slice(2, 8);
    var item = el('li', 'um-layer');
    item.dataset.layer = spec.name;
    var box = el('input');
    box.type = 'checkbox';
    box.id = id;
    box.checked = on;
    var label = el('label', null, spec.title);
    label.htmlFor = id;
    if (typeof spec.score === 'number')
      label.appendChild(el('span', 'um-layer-score', ' score ' + fmt(spec.score, 2)));
    var slider = el('input', 'um-opacity');
    slider.type = 'range';
    slider.min = '0';
    slider.max = '100';
    slider.value = '100';
    slider.setAttribute('aria-label', 'Opacity of ' + spec.title);
    item.appendChild(box);
    item.appendChild(label);
    item.appendChild(slider);
    this.list.appendChild(item);
    var layer = { spec: spec, box: box, slider: slider, canvas: null };
    this.layers.push(layer);
    box.addEventListener('change', function () { self.showLayer(layer); });
    slider.addEventListener('input', function () { self.showLayer(layer); });
    loadImage(spec.src).then(function (img) {
      layer.canvas = colourise(img);
      layer.canvas.dataset.layer = spec.name;
      self.placeLayer(layer);
    }, function () {
      /* applicable detectors without a map (facts only) simply have no layer */
      item.remove();
    });
  };

  Viewer.prototype.placeLayer = function (layer) {
    if (!layer.canvas) return;
    var target = this.mode === 'side' ? this.paneMaps.wrap : this.paneImage.wrap;
    target.appendChild(layer.canvas);
    this.showLayer(layer);
  };

  Viewer.prototype.showLayer = function (layer) {
    if (!layer.canvas) return;
    layer.canvas.hidden = !layer.box.checked;
    layer.canvas.style.opacity = String(Number(layer.slider.value) / 100);
    layer.box.closest('li').classList.toggle('um-on', layer.box.checked);
  };

  Viewer.prototype.setMode = function (mode) {
    this.mode = mode;
    this.paneMaps.pane.hidden = mode !== 'side';
    this.root.classList.toggle('um-side', mode === 'side');
    var self = this;
    this.layers.forEach(function (l) { self.placeLayer(l); });
  };

  Viewer.prototype.zoomBy = function (f, cx, cy) {
    var s = Math.min(32, Math.max(1, this.scale * f));
    var r = this.paneImage.pane.getBoundingClientRect();
    if (cx === undefined) { cx = r.width / 2; cy = r.height / 2; }
    /* keep the point under the cursor still: t' = c - (c - t) * s'/s */
    this.tx = cx - (cx - this.tx) * s / this.scale;
    this.ty = cy - (cy - this.ty) * s / this.scale;
    this.scale = s;
    this.apply();
  };

  Viewer.prototype.fit = function () {
    this.scale = 1;
    this.tx = this.ty = 0;
    this.apply();
  };

  Viewer.prototype.apply = function () {
    if (this.scale === 1) { this.tx = 0; this.ty = 0; }
    var t = 'translate(' + this.tx + 'px,' + this.ty + 'px) scale(' + this.scale + ')';
    this.paneImage.wrap.style.transform = t;
    this.paneMaps.wrap.style.transform = t;
    this.zoomLabel.textContent = Math.round(this.scale * 100) + '%';
  };

  /* ---- the detector table ----------------------------------------------------------------- */

  function renderDetectors(section, result) {
    var dets = detectorList(result);
    if (!dets.length) {
      section.appendChild(el('p', 'um-muted', 'No detector ran.'));
      return;
    }
    var table = el('table', 'um-table');
    var head = el('tr');
    ['Method', 'Result', 'What it saw'].forEach(function (h) {
      var th = el('th', null, h);
      th.scope = 'col';
      head.appendChild(th);
    });
    table.appendChild(el('thead')).appendChild(head);
    var body = el('tbody');
    dets.forEach(function (d) {
      var tr = el('tr', d.applicable ? 'um-applicable' : 'um-not-applicable');
      var name = el('th', null, d.name);
      name.scope = 'row';
      name.appendChild(el('span', 'um-family', d.family));
      tr.appendChild(name);
      var res = d.applicable ? (d.score === null ? 'facts only' : 'score ' + fmt(d.score, 2))
        : 'not applicable';
      var cell = el('td', null, res);
      if (d.applicable && typeof d.log10_nfa === 'number')
        cell.appendChild(el('span', 'um-nfa', 'log10 NFA ' + fmt(d.log10_nfa, 1)));
      tr.appendChild(cell);
      var what = el('td');
      if (!d.applicable && d.reason) what.appendChild(el('p', null, cut(d.reason)));
      var findings = Array.isArray(d.findings) ? d.findings : [];
      if (findings.length) {
        var ul = el('ul');
        findings.forEach(function (f) { ul.appendChild(el('li', null, cut(f))); });
        what.appendChild(ul);
      }
      tr.appendChild(what);
      body.appendChild(tr);
    });
    table.appendChild(body);
    section.appendChild(table);
  }

  /* ---- the provenance panel --------------------------------------------------------------- */

  function activeManifest(c2pa) {
    if (!c2pa || !c2pa.manifests || typeof c2pa.active_manifest !== 'string') return null;
    return c2pa.manifests[c2pa.active_manifest] || null;
  }

  function addFact(dl, term, value) {
    if (value === undefined || value === null || value === '') return;
    dl.appendChild(el('dt', null, term));
    dl.appendChild(el('dd', null, cut(value)));
  }

  function signerText(m) {
    var s = m && m.signature_info;
    if (!s) return null;
    var who = [s.common_name, s.organization].filter(Boolean).join(', ');
    return who + (s.issuer ? ' (certificate issued by ' + s.issuer + ')' : '');
  }

  function generatorText(m) {
    var g = m && Array.isArray(m.claim_generator_info) ? m.claim_generator_info : [];
    return g.map(function (x) { return [x.name, x.version].filter(Boolean).join(' '); })
      .join(', ') || (m && m.claim_generator) || null;
  }

  function renderActions(section, m) {
    var actions = m && Array.isArray(m.actions) ? m.actions : [];
    if (!actions.length) return;
    section.appendChild(el('h3', null, 'Edit history (Content Credentials actions)'));
    var ol = el('ol', 'um-actions');
    actions.forEach(function (a) {
      var parts = [a.action];
      if (a.softwareAgent) parts.push('by ' + (typeof a.softwareAgent === 'string' ?
        a.softwareAgent : a.softwareAgent.name));
      if (a.when) parts.push('at ' + a.when);
      if (a.ai) parts.push('AI: ' + a.ai);
      ol.appendChild(el('li', null, cut(parts.filter(Boolean).join(' '))));
    });
    section.appendChild(ol);
  }

  /* Every leaf of a metadata object as "path: value", flattened; rows and depth capped. */
  function flatten(obj, prefix, rows, depth) {
    if (rows.length >= MAX_ROWS) return;
    if (obj === null || typeof obj !== 'object' || depth >= MAX_DEPTH) {
      rows.push([prefix, obj !== null && typeof obj === 'object' ? '(nested too deep to show)' :
        String(obj)]);
      return;
    }
    Object.keys(obj).forEach(function (k) {
      var key = Array.isArray(obj) ? prefix + '[' + k + ']' : (prefix ? prefix + '.' + k : k);
      flatten(obj[k], key, rows, depth + 1);
    });
  }

  function renderMetadata(section, meta) {
    var groups = meta && typeof meta === 'object' ? Object.keys(meta) : [];
    if (!groups.length) return;
    section.appendChild(el('h3', null, 'Metadata'));
    groups.forEach(function (g) {
      var rows = [];
      flatten(meta[g], '', rows, 0);
      var details = el('details', 'um-meta');
      details.appendChild(el('summary', null, g.toUpperCase() + ' (' + rows.length +
        (rows.length >= MAX_ROWS ? '+' : '') + ' fields)'));
      var dl = el('dl', 'um-facts um-meta-list');
      rows.forEach(function (r) { addFact(dl, r[0] || g, r[1]); });
      details.appendChild(dl);
      section.appendChild(details);
    });
  }

  function renderProvenance(section, result) {
    var p = result && result.provenance;
    if (!p || p.examined === false) {
      section.appendChild(el('p', 'um-muted', 'The provenance was not examined.'));
      return;
    }
    var summary = p.summary || {};
    var statements = Array.isArray(summary.statements) ? summary.statements : [];
    if (statements.length) {
      var ul = el('ul', 'um-statements');
      statements.forEach(function (s) { ul.appendChild(el('li', null, cut(s))); });
      section.appendChild(ul);
    }
    var c2pa = p.c2pa || {};
    var m = activeManifest(c2pa);
    var dl = el('dl', 'um-facts');
    addFact(dl, 'Content Credentials', c2pa.present ? (c2pa.validation_state || summary.c2pa) :
      'none in the file');
    addFact(dl, 'Signer', signerText(m));
    addFact(dl, 'Made with', generatorText(m));
    var ai = summary.ai && summary.ai !== 'none-declared';
    addFact(dl, 'AI markers', ai ? summary.ai + (summary.ai_source ? ': ' + summary.ai_source :
      '') : 'none declared');
    addFact(dl, 'AI tool metadata', summary.generator_trace);
    if (p.watermark && p.watermark.applicable)
      addFact(dl, 'Invisible watermark', p.watermark.detected);
    if (summary.edited_after_signing) addFact(dl, 'Edited after signing', 'yes');
    if (summary.credentials_stripped) addFact(dl, 'Credentials stripped', 'yes');
    addFact(dl, 'Remote manifest (not fetched)', summary.remote_manifest);
    section.appendChild(dl);
    renderActions(section, m);
    renderMetadata(section, p.metadata);
    var warnings = Array.isArray(p.warnings) ? p.warnings : [];
    if (warnings.length) {
      section.appendChild(el('h3', null, 'Warnings while reading'));
      var wl = el('ul');
      warnings.slice(0, MAX_ROWS).forEach(function (w) { wl.appendChild(el('li', null, cut(w))); });
      section.appendChild(wl);
    }
  }

  /* ---- mounting ----------------------------------------------------------------------- */

  function mount(root, data) {
    return new Viewer(root, data);
  }

  function embeddedData(id) {
    var node = document.getElementById(id);
    try { return node ? JSON.parse(node.textContent) : null; } catch (e) { return null; }
  }

  /* The report: elements name the JSON block they draw from. */
  function mountEmbedded() {
    document.querySelectorAll('[data-um-viewer]').forEach(function (n) {
      var d = embeddedData(n.getAttribute('data-um-viewer'));
      if (d) mount(n, d);
    });
    document.querySelectorAll('[data-um-provenance]').forEach(function (n) {
      var d = embeddedData(n.getAttribute('data-um-provenance'));
      if (d) renderProvenance(n, d.result);
    });
    document.querySelectorAll('[data-um-detectors]').forEach(function (n) {
      var d = embeddedData(n.getAttribute('data-um-detectors'));
      if (d) renderDetectors(n, d.result);
    });
  }

  /* On paper every metadata table is open (a closed <details> prints only its summary). */
  global.addEventListener('beforeprint', function () {
    document.querySelectorAll('details.um-meta').forEach(function (d) { d.open = true; });
  });

  global.UnmaskViewer = { mount: mount, renderDetectors: renderDetectors,
    renderProvenance: renderProvenance, el: el };
  if (document.readyState === 'loading')
    document.addEventListener('DOMContentLoaded', mountEmbedded);
  else
    mountEmbedded();
})(window);
