/* unmask web app: uploads, progress, one case's result, the case list and notes. It talks only
 * to the JSON API of `unmask serve` (README "Web app and API") and draws results with the
 * shared viewer (viewer.js), the same one the HTML report uses. Text from the server is only
 * ever written with textContent. */
(function () {
  'use strict';

  var V = window.UnmaskViewer;
  var el = V.el;
  var POLL_MS = 1000;
  var PAGE = 50;
  var MAX_RETRIES = 5;
  var HEADLINES = {
    'manipulated': 'Manipulated',
    'likely-manipulated': 'Likely manipulated',
    'ai-generated': 'AI-generated',
    'no-evidence-found': 'No evidence of manipulation found',
    'inconclusive': 'Inconclusive'
  };
  var EXPLANATIONS = {
    'manipulated': 'The methods found strong evidence that the image was edited. The marked ' +
      'regions show where.',
    'likely-manipulated': 'The methods found evidence of editing. Check the marked regions and ' +
      'the reasons below before relying on the image.',
    'ai-generated': 'The file carries signs that an AI model made the image. Read the ' +
      'provenance panel: unsigned declarations can be added by anyone.',
    'no-evidence-found': 'None of the methods found traces of editing. This is not proof that ' +
      'the image is authentic: many edits leave no trace these methods can see.',
    'inconclusive': 'These methods cannot judge this image (too small, too compressed, or of ' +
      'a kind they do not apply to).'
  };

  function $(id) { return document.getElementById(id); }

  function apiUrl(id, rest) {
    return '/api/analyses/' + encodeURIComponent(String(id)) + (rest || '');
  }

  /* fetch JSON; a non-2xx answer becomes an Error carrying the API's message. */
  function getJson(url, options) {
    return fetch(url, options).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (!res.ok) {
          var msg = body && body.error && body.error.message;
          throw new Error(msg || ('the server answered ' + res.status));
        }
        return body;
      });
    });
  }

  function when(iso) {
    if (!iso) return '\u2013';
    var d = new Date(iso);
    return isNaN(d) ? String(iso) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  }

  function fixed(v) { return typeof v === 'number' ? v.toFixed(2) : '\u2013'; }

  /* ---- routing: #/ upload, #/cases, #/case/ID ------------------------------------------ */

  var timers = [];

  function show(name) {
    ['upload', 'case', 'cases'].forEach(function (v) { $('view-' + v).hidden = v !== name; });
    $('nav-upload').setAttribute('aria-current', name === 'upload' ? 'page' : 'false');
    $('nav-cases').setAttribute('aria-current', name === 'cases' ? 'page' : 'false');
  }

  function route() {
    timers.forEach(clearTimeout);
    timers = [];
    var m = /^#\/case\/(\d{1,16})$/.exec(location.hash);
    if (m) { show('case'); openCase(m[1]); return; }
    if (location.hash === '#/cases') { show('cases'); loadCases(0); return; }
    show('upload');
  }

  /* ---- uploading ----------------------------------------------------------------------- */

  function uploadRow(file) {
    var li = el('li', 'um-upload');
    li.appendChild(el('span', 'um-upload-name', file.name));
    var bar = el('progress');
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute('aria-label', 'Upload of ' + file.name);
    li.appendChild(bar);
    var status = el('span', 'um-upload-status', 'waiting');
    li.appendChild(status);
    $('uploads-h').hidden = false;
    $('uploads').appendChild(li);
    return { li: li, bar: bar, status: status };
  }

  /* XMLHttpRequest, not fetch: only it reports upload progress. */
  function sendFile(file, row, attempt) {
    var form = new FormData();
    form.append('file', file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/analyses');
    xhr.upload.onprogress = function (ev) {
      if (ev.lengthComputable) row.bar.value = Math.round(100 * ev.loaded / ev.total);
      row.status.textContent = 'uploading';
    };
    xhr.onload = function () { uploaded(file, row, attempt, xhr); };
    xhr.onerror = function () { row.status.textContent = 'failed: the server cannot be reached'; };
    xhr.send(form);
  }

  function uploaded(file, row, attempt, xhr) {
    var body = {};
    try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
    if ((xhr.status === 429 || xhr.status === 503) && attempt < MAX_RETRIES) {
      var wait = Math.min(60, Math.max(1, Number(xhr.getResponseHeader('Retry-After')) || 2));
      row.status.textContent = 'the queue is full; retrying in ' + wait + ' s';
      setTimeout(function () { sendFile(file, row, attempt + 1); }, wait * 1000);
      return;
    }
    var a = body.analyses && body.analyses[0];
    if (xhr.status !== 202 || !a) {
      row.status.textContent = 'refused: ' + ((body.error && body.error.message) ||
        'the server answered ' + xhr.status);
      row.li.classList.add('um-failed');
      return;
    }
    row.bar.value = 100;
    row.bar.removeAttribute('value');  /* indeterminate while analysing */
    row.status.textContent = 'stored (sha256 ' + String(a.sha256).slice(0, 12) + '\u2026), ' +
      a.status;
    poll(a.id, row);
  }

  function poll(id, row) {
    getJson(apiUrl(id)).then(function (c) {
      if (c.status === 'queued' || c.status === 'running') {
        row.status.textContent = c.status === 'queued' ? 'waiting for analysis' : 'analysing';
        setTimeout(function () { poll(id, row); }, POLL_MS);
        return;
      }
      row.bar.max = 1;
      row.bar.value = 1;
      row.status.textContent = '';
      if (c.status === 'failed') {
        row.status.textContent = 'not analysed: ' + (c.error || 'unknown error');
        row.li.classList.add('um-failed');
      } else {
        row.status.appendChild(el('span', 'um-badge um-badge-' + c.label,
          HEADLINES[c.label] || c.label));
      }
      var link = el('a', 'um-open', 'Open result');
      link.href = '#/case/' + encodeURIComponent(String(c.id));
      row.status.appendChild(link);
    }, function (err) {
      row.status.textContent = 'lost track of the analysis: ' + err.message;
    });
  }

  function uploadAll(files) {
    Array.prototype.forEach.call(files, function (f) { sendFile(f, uploadRow(f), 0); });
  }

  function setupUpload() {
    var drop = $('drop');
    $('file-input').addEventListener('change', function (ev) {
      uploadAll(ev.target.files);
      ev.target.value = '';
    });
    ['dragenter', 'dragover'].forEach(function (t) {
      drop.addEventListener(t, function (ev) { ev.preventDefault(); drop.classList.add('um-over'); });
    });
    drop.addEventListener('dragleave', function () { drop.classList.remove('um-over'); });
    drop.addEventListener('drop', function (ev) {
      ev.preventDefault();
      drop.classList.remove('um-over');
      if (ev.dataTransfer && ev.dataTransfer.files.length) uploadAll(ev.dataTransfer.files);
    });
  }

  /* ---- one case ------------------------------------------------------------------------ */

  function verdictSection(c) {
    var v = c.result && c.result.verdict;
    var s = el('section', 'um-verdict um-label-' + (v ? v.label : 'none'));
    s.appendChild(el('h2', null, 'Verdict'));
    if (!v) {
      s.appendChild(el('p', 'um-headline', c.status === 'failed' ? 'Not analysed' : 'Analysing\u2026'));
      if (c.error) s.appendChild(el('p', null, c.error));
      return s;
    }
    s.appendChild(el('p', 'um-headline', HEADLINES[v.label] || v.label));
    s.appendChild(el('p', null, EXPLANATIONS[v.label] || ''));
    var score = 'Score ' + fixed(v.score) + ' on a scale from 0 (no evidence) to 1 (strongest ' +
      'evidence).';
    if (typeof v.false_alarm_rate === 'number')
      score += ' About ' + (100 * v.false_alarm_rate).toFixed(1) + '% of authentic images in ' +
        'the calibration set score this high (the false-alarm rate).';
    s.appendChild(el('p', 'um-score', score));
    if (Array.isArray(v.reasons) && v.reasons.length) {
      s.appendChild(el('h3', null, 'Why'));
      var ul = el('ul', 'um-reasons');
      v.reasons.forEach(function (r) { ul.appendChild(el('li', null, r)); });
      s.appendChild(ul);
    }
    return s;
  }

  function actions(c) {
    var p = el('p', 'um-actions-bar');
    var report = el('a', 'um-btn um-primary', 'Download report (HTML)');
    report.href = apiUrl(c.id, '/report.html');
    report.setAttribute('download', '');
    report.id = 'case-report';
    var exp = el('a', 'um-btn', 'Export case (.zip)');
    exp.href = apiUrl(c.id, '/export');
    exp.setAttribute('download', '');
    p.appendChild(report);
    p.appendChild(exp);
    return p;
  }

  function layersSection(c) {
    var s = el('section', 'um-layers');
    s.appendChild(el('h2', null, 'Evidence layers'));
    var box = el('div', 'um-viewer');
    s.appendChild(box);
    var maps = { fused: apiUrl(c.id, '/maps/fused.png') };
    (c.result.detectors || []).forEach(function (d) {
      if (d.applicable && typeof d.name === 'string')
        maps[d.name] = apiUrl(c.id, '/maps/' + encodeURIComponent(d.name) + '.png');
    });
    V.mount(box, { result: c.result, image: apiUrl(c.id, '/image.png'), maps: maps });
    return s;
  }

  function panel(title, cls, render) {
    var s = el('section', cls);
    s.appendChild(el('h2', null, title));
    render(s);
    return s;
  }

  function identitySection(c) {
    var s = el('section', 'um-identity');
    s.appendChild(el('h2', null, 'The file examined'));
    var dl = el('dl', 'um-facts');
    var facts = [['File', c.name], ['SHA-256 of the stored bytes', c.sha256],
      ['Size', c.size + ' bytes'], ['Added', when(c.created)], ['Analysis started', when(c.started)],
      ['Analysis finished', when(c.finished)], ['Tool', 'unmask ' + (c.tool_version || '')],
      ['Parameters', JSON.stringify(c.parameters || {})]];
    facts.forEach(function (f) {
      dl.appendChild(el('dt', null, f[0]));
      dl.appendChild(el('dd', f[0].indexOf('SHA') === 0 ? 'um-hash' : null, f[1]));
    });
    s.appendChild(dl);
    return s;
  }

  function noteItem(n) {
    var li = el('li');
    li.appendChild(el('span', 'um-note-text', n.text));
    li.appendChild(el('span', 'um-muted um-note-time', ' \u2014 ' + when(n.created)));
    return li;
  }

  function notesSection(c) {
    var s = el('section', 'um-notes');
    s.appendChild(el('h2', null, 'Notes'));
    var list = el('ol', 'um-note-list');
    (c.notes || []).forEach(function (n) { list.appendChild(noteItem(n)); });
    s.appendChild(list);
    var form = el('form', 'um-note-form');
    var label = el('label', null, 'Add a note (what you checked, whom you asked, what you found)');
    label.htmlFor = 'note-text';
    var text = el('textarea');
    text.id = 'note-text';
    text.rows = 3;
    text.maxLength = 10000;
    var btn = el('button', 'um-btn um-primary', 'Save note');
    btn.type = 'submit';
    var status = el('p', 'um-muted');
    status.setAttribute('aria-live', 'polite');
    [label, text, btn, status].forEach(function (n) { form.appendChild(n); });
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (!text.value.trim()) { status.textContent = 'Write something first.'; return; }
      btn.disabled = true;
      getJson(apiUrl(c.id, '/notes'), { method: 'POST', headers: { 'Content-Type':
        'application/json' }, body: JSON.stringify({ text: text.value }) }).then(function (n) {
        list.appendChild(noteItem(n));
        text.value = '';
        status.textContent = 'Saved.';
      }, function (err) { status.textContent = 'Not saved: ' + err.message; })
        .then(function () { btn.disabled = false; });
    });
    s.appendChild(form);
    return s;
  }

  function renderCase(c) {
    var view = $('view-case');
    view.textContent = '';
    var h = el('h1', 'um-case-title', c.name || ('case ' + c.id));
    view.appendChild(h);
    view.appendChild(verdictSection(c));
    if (c.status === 'done' && c.result) {
      view.appendChild(actions(c));
      view.appendChild(layersSection(c));
      view.appendChild(panel('Provenance', 'um-provenance', function (s) {
        V.renderProvenance(s, c.result);
      }));
      view.appendChild(panel('What each method saw', 'um-detectors', function (s) {
        V.renderDetectors(s, c.result);
      }));
    }
    view.appendChild(identitySection(c));
    view.appendChild(notesSection(c));
  }

  function openCase(id) {
    var view = $('view-case');
    view.textContent = '';
    view.appendChild(el('p', 'um-muted', 'Loading case ' + id + '\u2026'));
    getJson(apiUrl(id)).then(function (c) {
      renderCase(c);
      if (c.status === 'queued' || c.status === 'running')
        timers.push(setTimeout(function () { openCase(id); }, POLL_MS));
    }, function (err) {
      view.textContent = '';
      view.appendChild(el('p', 'um-failed', 'Cannot open case ' + id + ': ' + err.message));
    });
  }

  /* ---- the case list ------------------------------------------------------------------- */

  var listOffset = 0;

  function caseRow(a) {
    var tr = el('tr');
    var name = el('th');
    name.scope = 'row';
    var link = el('a', null, a.name || ('case ' + a.id));
    link.href = '#/case/' + encodeURIComponent(String(a.id));
    name.appendChild(link);
    tr.appendChild(name);
    var verdict = el('td');
    verdict.appendChild(el('span', 'um-badge um-badge-' + (a.label || a.status),
      a.label ? (HEADLINES[a.label] || a.label) : a.status));
    tr.appendChild(verdict);
    tr.appendChild(el('td', null, fixed(a.score)));
    tr.appendChild(el('td', 'um-hash', String(a.sha256 || '').slice(0, 16) + '\u2026'));
    tr.appendChild(el('td', null, when(a.created)));
    tr.appendChild(el('td', null, String(a.notes_count || 0)));
    return tr;
  }

  function loadCases(offset) {
    listOffset = Math.max(0, offset);
    var q = new URLSearchParams();
    [['q', 'search-q'], ['label', 'search-label'], ['from', 'search-from'], ['to', 'search-to']]
      .forEach(function (p) { if ($(p[1]).value) q.set(p[0], $(p[1]).value); });
    q.set('limit', String(PAGE));
    q.set('offset', String(listOffset));
    var tbody = $('cases-body');
    tbody.setAttribute('aria-busy', 'true');
    getJson('/api/analyses?' + q.toString()).then(function (body) {
      tbody.textContent = '';
      (body.analyses || []).forEach(function (a) { tbody.appendChild(caseRow(a)); });
      var total = Number(body.total) || 0;
      $('cases-count').textContent = total === 0 ? 'No case matches.' : total + (total === 1 ?
        ' case' : ' cases') + (total > PAGE ? ', showing ' + (listOffset + 1) + '\u2013' +
        Math.min(total, listOffset + PAGE) : '');
      $('cases-prev').disabled = listOffset === 0;
      $('cases-next').disabled = listOffset + PAGE >= total;
    }, function (err) {
      $('cases-count').textContent = 'Cannot load the cases: ' + err.message;
    }).then(function () { tbody.setAttribute('aria-busy', 'false'); });
  }

  function setupCases() {
    $('search').addEventListener('submit', function (ev) {
      ev.preventDefault();
      loadCases(0);
    });
    $('cases-prev').addEventListener('click', function () { loadCases(listOffset - PAGE); });
    $('cases-next').addEventListener('click', function () { loadCases(listOffset + PAGE); });
  }

  setupUpload();
  setupCases();
  window.addEventListener('hashchange', route);
  route();
})();
