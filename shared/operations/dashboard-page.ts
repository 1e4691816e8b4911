// The dashboard: one static page. It holds no data and no key; its script reads the key from its
// own ?code= and fetches ./status, then builds the DOM with textContent only, so nothing from
// storage is ever parsed as HTML. The script and style carry a per-response CSP nonce.

export function dashboardPage(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>RingCentral archive - operations</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header>
  <h1>RingCentral &rarr; Microsoft 365 archive</h1>
  <div id="health" class="badge" data-testid="health">loading&hellip;</div>
  <div class="meta"><span id="updated" data-testid="updated"></span> &middot; refreshes every <span id="every"></span> s</div>
</header>
<main>
  <p id="problem" class="problem" data-testid="problem" hidden></p>
  <ul id="reasons" class="reasons" data-testid="reasons"></ul>
  <section>
    <h2>Pipeline</h2>
    <div id="stages" class="stages" data-testid="stages"></div>
  </section>
  <section class="two">
    <div>
      <h2>Sources</h2>
      <table data-testid="sources"><thead><tr><th>Source</th><th>State</th><th>Captured through</th><th>Windows in flight</th></tr></thead><tbody id="sources"></tbody></table>
    </div>
    <div>
      <h2>By kind</h2>
      <table data-testid="kinds"><thead><tr><th>Kind</th><th>Captured</th><th>Converted</th><th>Delivered</th><th>Failed</th><th>Invalid</th></tr></thead><tbody id="kinds"></tbody></table>
    </div>
  </section>
  <section class="two">
    <div>
      <h2>Capture lag against retention</h2>
      <div class="lag"><div id="lagbar" class="lagbar"></div></div>
      <p id="lagtext" data-testid="lag"></p>
      <p id="latencytext" data-testid="capture-latency"></p>
    </div>
    <div>
      <h2>Download the log</h2>
      <form id="download" class="download">
        <label>From <input type="date" id="from"></label>
        <label>To <input type="date" id="to"></label>
      </form>
      <p><a id="csv" data-testid="csv" href="#">Download CSV</a> &middot; <a id="jsonl" data-testid="jsonl" href="#">Download JSONL</a></p>
      <p class="hint">One row per item &times; mailbox; dates filter by the item's time (UTC, end exclusive).</p>
    </div>
  </section>
  <section>
    <h2>Captured vs delivered per day</h2>
    <div id="chart" data-testid="chart"></div>
  </section>
  <section class="two">
    <div>
      <h2>Failing mailboxes</h2>
      <table data-testid="failing"><thead><tr><th>Mailbox</th><th>Failed</th><th>Pending</th><th>Delivered</th></tr></thead><tbody id="failing"></tbody></table>
    </div>
    <div>
      <h2>Queues</h2>
      <table data-testid="queues"><thead><tr><th>Queue</th><th>Waiting</th><th>Poison</th></tr></thead><tbody id="queues"></tbody></table>
    </div>
  </section>
  <section>
    <h2>Recent errors</h2>
    <table data-testid="errors"><thead><tr><th>Time (UTC)</th><th>Stage</th><th>Item</th><th>Mailbox</th><th>Reason</th></tr></thead><tbody id="errors"></tbody></table>
  </section>
</main>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>`;
}

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1f24;background:#f4f6f8}
header{display:flex;flex-wrap:wrap;align-items:center;gap:12px;padding:14px 24px;background:#0f2b46;color:#fff}
h1{font-size:18px;margin:0;flex:1 1 auto}h2{font-size:15px;margin:0 0 8px}
.meta{font-size:12px;opacity:.85;width:100%}
main{padding:16px 24px;max-width:1200px}section{background:#fff;border-radius:8px;padding:14px 16px;margin-bottom:14px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
section.two{display:grid;grid-template-columns:1fr 1fr;gap:24px}@media(max-width:800px){section.two{grid-template-columns:1fr}}
.badge{padding:4px 12px;border-radius:14px;font-weight:600;text-transform:uppercase;font-size:12px;background:#888}
.badge.ok{background:#1f883d}.badge.degraded{background:#bf8700}.badge.failing{background:#cf222e}
.reasons{margin:0 0 12px;padding-left:20px;color:#57606a}.problem{background:#ffebe9;border:1px solid #cf222e;padding:8px 12px;border-radius:6px}
.stages{display:flex;flex-wrap:wrap;gap:8px;align-items:stretch}
.stage{flex:1 1 150px;border:1px solid #d0d7de;border-radius:6px;padding:8px 10px;position:relative}
.stage h3{margin:0 0 4px;font-size:13px;color:#57606a;text-transform:uppercase;letter-spacing:.03em}
.stage .n{font-size:24px;font-weight:600}.stage .sub{font-size:12px;color:#57606a}.stage .bad{color:#cf222e;font-weight:600}
.lag{height:14px;background:#eaeef2;border-radius:7px;overflow:hidden}.lagbar{height:100%;width:0;background:#1f883d}
.lagbar.warn{background:#bf8700}.lagbar.bad{background:#cf222e}
td.bad{color:#cf222e;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eaeef2;vertical-align:top}
td.num,th.num{text-align:right}td.reason{word-break:break-word;max-width:520px}
.download label{margin-right:12px}.hint{font-size:12px;color:#57606a}a{color:#0969da}
svg text{font-size:11px;fill:#57606a}.empty{color:#57606a;font-style:italic}
`;

const SCRIPT = `
(function () {
  'use strict';
  var params = new URLSearchParams(location.search);
  var code = params.get('code') || '';
  var every = Math.max(2, Number(params.get('refresh')) || 30);
  document.getElementById('every').textContent = String(every);

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var k in (attrs || {})) node.setAttribute(k, attrs[k]);
    (children || []).forEach(function (c) { node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return node;
  }
  function svg(tag, attrs, text) {
    var node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (var k in attrs) node.setAttribute(k, String(attrs[k]));
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
  function fmt(n) { return (n || 0).toLocaleString('en-US'); }
  function text(v) { return v === undefined || v === null ? '' : String(v); }

  function logHref(format) {
    var q = new URLSearchParams();
    q.set('format', format);
    var from = document.getElementById('from').value, to = document.getElementById('to').value;
    if (from) q.set('from', from);
    if (to) q.set('to', to);
    q.set('code', code);
    return 'log?' + q.toString();
  }
  function updateLinks() {
    document.getElementById('csv').setAttribute('href', logHref('csv'));
    document.getElementById('jsonl').setAttribute('href', logHref('jsonl'));
  }
  document.getElementById('from').addEventListener('change', updateLinks);
  document.getElementById('to').addEventListener('change', updateLinks);
  updateLinks();

  function stage(name, testid, main, mainLabel, lines) {
    var box = el('div', { 'class': 'stage', 'data-testid': 'stage-' + testid }, [el('h3', {}, [name]), el('div', { 'class': 'n' }, [fmt(main)]), el('div', { 'class': 'sub' }, [mainLabel])]);
    lines.forEach(function (l) { box.appendChild(el('div', { 'class': 'sub' + (l[2] ? ' bad' : '') }, [l[0] + ': ' + fmt(l[1])])); });
    return box;
  }

  function render(s) {
    var t = s.totals, q = s.queues || {};
    var health = document.getElementById('health');
    health.textContent = s.health.state;
    health.className = 'badge ' + s.health.state;
    var reasons = clear(document.getElementById('reasons'));
    s.health.reasons.forEach(function (r) { reasons.appendChild(el('li', {}, [r])); });

    function qd(name) { return q[name] || { depth: 0, poison: 0 }; }
    var stages = clear(document.getElementById('stages'));
    stages.appendChild(stage('Export', 'export', s.capture.windowsStored || 0, 'windows stored', [['in flight', s.capture.windowsInFlight], ['queued', qd('poll-export').depth], ['poison', qd('poll-export').poison, qd('poll-export').poison > 0]]));
    stages.appendChild(stage('Unpack', 'unpack', t.captured, 'items captured', [['invalid', t.invalid, t.invalid > 0], ['queued', qd('unpack').depth], ['poison', qd('unpack').poison, qd('unpack').poison > 0]]));
    stages.appendChild(stage('Convert', 'convert', t.converted, 'items converted', [['not delivered (no mailbox / guest)', t.notDelivered], ['queued', qd('convert').depth], ['poison', qd('convert').poison, qd('convert').poison > 0]]));
    stages.appendChild(stage('Deliver', 'deliver', t.delivered, 'copies delivered into ' + fmt(t.mailboxes) + ' mailboxes', [['failed', t.failed, t.failed > 0], ['pending', t.pending], ['queued', qd('deliver').depth], ['poison', qd('deliver').poison, qd('deliver').poison > 0]]));

    var c = s.capture, bar = document.getElementById('lagbar');
    if (c.lagHours === undefined || c.lagHours === null) {
      document.getElementById('lagtext').textContent = 'Nothing captured yet; retention is ' + c.retentionDays + ' days.';
      bar.style.width = '0';
    } else {
      var pct = c.lagPercentOfRetention || 0;
      bar.style.width = Math.min(100, Math.max(1, pct)) + '%';
      bar.className = 'lagbar' + (pct > 50 ? ' bad' : pct > 25 ? ' warn' : '');
      document.getElementById('lagtext').textContent = 'Captured through ' + text(c.capturedThrough) + ': lag ' + c.lagHours.toFixed(1) + ' h, ' + pct.toFixed(1) + '% of the ' + c.retentionDays + '-day retention.';
    }
    var cl = c.captureLatency || {};
    document.getElementById('latencytext').textContent = cl.windows
      ? 'Capture latency over the last day (' + cl.windows + ' windows): median ' + minutes(cl.medianMinutes) + ', 95th percentile ' + minutes(cl.p95Minutes) + '.'
      : 'Capture latency: no window stored in the last day.';

    drawChart(s.byDay || []);
    function minutes(m) { return m >= 120 ? (m / 60).toFixed(1) + ' h' : Math.round(m) + ' min'; }

    var sources = clear(document.getElementById('sources'));
    Object.keys(s.sources || {}).forEach(function (name) {
      var src = s.sources[name];
      var state = src.state === 'permission missing' ? 'permission missing: ' + text(src.missingPermission) + ' (next try ' + text(src.nextProbeAt).replace('T', ' ').slice(0, 16) + ')' : src.state;
      if (src.degraded) state += '; ' + src.degraded;
      sources.appendChild(el('tr', { 'data-source': name }, [el('td', {}, [name]), el('td', { 'class': src.state === 'on' && !src.degraded ? '' : src.state === 'off' ? 'empty' : 'bad' }, [state]), el('td', {}, [src.capturedThrough ? text(src.capturedThrough).replace('T', ' ').slice(0, 19) : '-']), el('td', { 'class': 'num' }, [fmt(src.windowsInFlight)])]));
    });

    var kinds = clear(document.getElementById('kinds'));
    var kindNames = Object.keys(t.byKind || {}).sort();
    if (!kindNames.length) kinds.appendChild(el('tr', {}, [el('td', { 'class': 'empty', colspan: '6' }, ['Nothing captured yet'])]));
    kindNames.forEach(function (k) {
      var v = t.byKind[k];
      kinds.appendChild(el('tr', { 'data-kind': k }, [el('td', {}, [k]), el('td', { 'class': 'num' }, [fmt(v.captured)]), el('td', { 'class': 'num' }, [fmt(v.converted)]), el('td', { 'class': 'num' }, [fmt(v.delivered)]), el('td', { 'class': 'num' + (v.failed > 0 ? ' bad' : '') }, [fmt(v.failed)]), el('td', { 'class': 'num' + (v.invalid > 0 ? ' bad' : '') }, [fmt(v.invalid)])]));
    });

    var failing = clear(document.getElementById('failing'));
    var rows = Object.keys(s.byMailbox || {}).filter(function (m) { return s.byMailbox[m].failed > 0; })
      .sort(function (a, b) { return s.byMailbox[b].failed - s.byMailbox[a].failed; });
    if (!rows.length) failing.appendChild(el('tr', {}, [el('td', { 'class': 'empty', colspan: '4' }, ['No failing mailbox'])]));
    rows.forEach(function (m) {
      var v = s.byMailbox[m];
      failing.appendChild(el('tr', {}, [el('td', {}, [m]), el('td', { 'class': 'num' }, [fmt(v.failed)]), el('td', { 'class': 'num' }, [fmt(v.pending)]), el('td', { 'class': 'num' }, [fmt(v.delivered)])]));
    });

    var queues = clear(document.getElementById('queues'));
    Object.keys(q).forEach(function (name) {
      queues.appendChild(el('tr', {}, [el('td', {}, [name]), el('td', { 'class': 'num' }, [fmt(q[name].depth)]), el('td', { 'class': 'num' }, [fmt(q[name].poison)])]));
    });

    var errors = clear(document.getElementById('errors'));
    if (!s.recentErrors.length) errors.appendChild(el('tr', {}, [el('td', { 'class': 'empty', colspan: '5' }, ['No errors in the last 7 days'])]));
    s.recentErrors.forEach(function (e) {
      errors.appendChild(el('tr', {}, [el('td', {}, [text(e.at).replace('T', ' ').slice(0, 19)]), el('td', {}, [text(e.stage)]), el('td', {}, [text(e.itemKey || e.windowId)]), el('td', {}, [text(e.mailbox)]), el('td', { 'class': 'reason' }, [text(e.reason)])]));
    });
  }

  function drawChart(days) {
    var box = clear(document.getElementById('chart'));
    if (!days.length) { box.appendChild(el('p', { 'class': 'empty' }, ['Nothing captured yet'])); return; }
    var W = 900, H = 240, left = 48, bottom = 40, top = 24, plotH = H - top - bottom;
    var max = 1;
    days.forEach(function (d) { max = Math.max(max, d.captured, d.delivered); });
    var step = (W - left - 10) / days.length, bw = Math.max(2, Math.min(28, step / 2 - 4));
    var root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: '100%', role: 'img', 'aria-label': 'Items captured and copies delivered per day' });
    for (var g = 0; g <= 4; g++) {
      var gy = top + plotH - (plotH * g) / 4;
      root.appendChild(svg('line', { x1: left, x2: W - 10, y1: gy, y2: gy, stroke: '#eaeef2' }));
      root.appendChild(svg('text', { x: left - 6, y: gy + 4, 'text-anchor': 'end' }, fmt(Math.round((max * g) / 4))));
    }
    days.forEach(function (d, i) {
      var x = left + i * step + step / 2;
      [['captured', d.captured, '#0969da', -bw - 1], ['delivered', d.delivered, '#1f883d', 1]].forEach(function (s) {
        var h = (plotH * s[1]) / max;
        var r = svg('rect', { x: x + s[3], y: top + plotH - h, width: bw, height: Math.max(0, h), fill: s[2], 'data-day': d.day, 'data-series': s[0], 'data-value': s[1] });
        r.appendChild(svg('title', {}, d.day + ' ' + s[0] + ': ' + s[1]));
        root.appendChild(r);
      });
      if (days.length <= 16 || i % Math.ceil(days.length / 16) === 0) root.appendChild(svg('text', { x: x, y: H - bottom + 16, 'text-anchor': 'middle' }, d.day.slice(5)));
    });
    root.appendChild(svg('rect', { x: left, y: 4, width: 10, height: 10, fill: '#0969da' }));
    root.appendChild(svg('text', { x: left + 14, y: 13 }, 'items captured'));
    root.appendChild(svg('rect', { x: left + 120, y: 4, width: 10, height: 10, fill: '#1f883d' }));
    root.appendChild(svg('text', { x: left + 134, y: 13 }, 'copies delivered (one per mailbox)'));
    box.appendChild(root);
  }

  function refresh() {
    fetch('status', { headers: { 'x-functions-key': code }, cache: 'no-store' })
      .then(function (res) {
        if (!res.ok) throw new Error(res.status === 401 ? 'the function key was refused (401): open this page with ?code=<function key>' : 'status answered ' + res.status);
        return res.json();
      })
      .then(function (s) {
        document.getElementById('problem').hidden = true;
        render(s);
        document.getElementById('updated').textContent = 'Updated ' + new Date().toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
        document.body.setAttribute('data-refreshes', String(Number(document.body.getAttribute('data-refreshes') || 0) + 1));
      })
      .catch(function (err) {
        var p = document.getElementById('problem');
        p.textContent = 'Could not load the status: ' + err.message;
        p.hidden = false;
      })
      .then(function () { setTimeout(refresh, every * 1000); });
  }
  refresh();
})();
`;
