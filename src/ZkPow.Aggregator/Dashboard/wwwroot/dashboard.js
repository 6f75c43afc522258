// The zkPoW aggregator's dashboard: renders the snapshots of GET /api/dashboard and the server-sent events of
// GET /api/events. Plain script, no dependencies. Everything from the server is inserted as text, never as HTML.
(function () {
  'use strict';

  const TOKEN_KEY = 'zkpow-operator-token';
  const PIPELINE = ['synced', 'proving', 'proved', 'committed', 'revealed', 'verified'];
  const OFF_PATH = ['lost', 'parked', 'slashed', 'refused'];
  const SVG = 'http://www.w3.org/2000/svg';
  const rendered = {};
  let latest = null;

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'class') node.className = v; else if (k === 'text') node.textContent = v; else node.setAttribute(k, v);
    }
    for (const child of children) {
      if (child === undefined || child === null) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    return node;
  }

  function td(value, cls) { return el('td', { class: cls }, value === undefined || value === null || value === '' ? '—' : value); }

  // Renders a section again only when its data changed (keeps buttons under the pointer stable).
  function changed(key, value) {
    const text = JSON.stringify(value);
    if (rendered[key] === text) return false;
    rendered[key] = text;
    return true;
  }

  function fillBody(tableId, emptyId, rows) {
    const body = $(tableId).tBodies[0];
    body.replaceChildren(...rows);
    $(emptyId).hidden = rows.length > 0;
    $(tableId).hidden = rows.length === 0;
  }

  function duration(since, now) {
    if (!since) return '';
    const s = Math.max(0, Math.round((Date.parse(now) - Date.parse(since)) / 1000));
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  }

  function weiToEth(wei) {
    // Integer wei as text → ETH as a Number (precise to a micro-ETH, enough for a chart).
    try { return Number(BigInt(wei) / 1000000000000n) / 1e6; } catch (e) { return 0; }
  }

  function gwei(wei) {
    if (!wei) return '';
    try { return (Number(BigInt(wei) / 1000000n) / 1000).toString(); } catch (e) { return wei; }
  }

  function render(snap) {
    latest = snap;
    const status = snap.status;
    $('phase').textContent = snap.phase;
    $('phase').className = 'badge ' + snap.phase;
    $('phase').title = snap.phaseReason || '';
    $('block').textContent = 'block ' + (snap.block ?? '—');
    $('updated').textContent = 'updated ' + new Date(snap.time).toLocaleTimeString();
    const problems = [...(snap.problems || [])];
    if (snap.phase !== 'running' && snap.phaseReason) problems.push(snap.phase + ': ' + snap.phaseReason);
    $('problems').hidden = problems.length === 0;
    $('problems').textContent = problems.join('; ');
    $('token-note').textContent = snap.tokenRequired ? 'this aggregator requires the token for changes' : 'no operator token configured (loopback only)';
    if (!status) return;

    // Health ("healthy" | "degraded") where the aggregator reports it.
    $('health').hidden = !status.health;
    $('health').textContent = status.health || '';
    $('health').className = 'badge ' + (status.health === 'healthy' ? 'on' : 'starting');
    // A planned stop (zkpow drain): its state and what it still waits for.
    const drain = status.drain;
    $('drain').hidden = !drain || drain.state === 'none';
    $('drain').textContent = drain && drain.state !== 'none'
      ? 'drain: ' + drain.state + ' (' + drain.openCommitments + ' open commitments, ' + drain.pendingTxs + ' txs in flight)'
      : '';
    $('miner').textContent = status.minerAddress;
    $('chain').textContent = 'chain ' + status.baseChainId;
    $('stat-provers').textContent = status.provers.length;
    $('stat-final-proofs').textContent = status.finalProofs;
    $('stat-tasks-completed').textContent = status.tasksCompleted;
    $('stat-parked').textContent = status.parkedTasks + (status.parkedSequences ? ' + ' + status.parkedSequences + ' seq' : '');
    $('stat-pending-txs').textContent = status.pendingTxs;
    $('stat-verified').textContent = snap.sequencesVerified;
    renderProvers(status.provers, snap.time);
    renderSequences(snap);
    renderTxs(snap.txs);
    renderEarnings(snap);
    renderParked(snap.parkedTasks);
  }

  function renderProvers(provers, now) {
    const rows = provers.map(p => {
      const state = p.quarantined ? 'quarantined' : (p.idle ? 'idle' : 'working');
      const task = p.currentTask ?? p.currentJobId;
      return el('tr', { 'data-name': p.name, class: 'prover' },
        td(p.name), td(p.peer, 'mono'), td(p.principal, 'mono'), td(el('span', { class: 'stage ' + (state === 'working' ? 'proving' : state === 'quarantined' ? 'parked' : '') }, state)),
        td(task, 'mono'), td(duration(p.currentTaskSince, now)), td(p.jobsDone), td(p.jobsFailed),
        td(p.quarantined === undefined ? '' : (p.quarantined ? 'yes' : 'no')));
    });
    fillBody('provers', 'provers-empty', rows);
  }

  function renderSequences(snap) {
    const counts = {};
    for (const s of snap.sequences) counts[s.stage] = (counts[s.stage] || 0) + 1;
    const pipeline = [];
    PIPELINE.forEach((stage, i) => {
      if (i > 0) pipeline.push(el('span', { class: 'arrow' }, '→'));
      pipeline.push(el('div', { class: 'step' + (stage === 'verified' ? ' good' : ''), 'data-stage': stage, id: 'stage-' + stage },
        el('span', { class: 'count' }, counts[stage] || 0), el('span', { class: 'name' }, stage)));
    });
    pipeline.push(el('span', { class: 'arrow' }, '|'));
    for (const stage of OFF_PATH) {
      pipeline.push(el('div', { class: 'step' + (counts[stage] ? ' bad' : ''), 'data-stage': stage, id: 'stage-' + stage },
        el('span', { class: 'count' }, counts[stage] || 0), el('span', { class: 'name' }, stage)));
    }
    $('pipeline').replaceChildren(...pipeline);

    const rows = snap.sequences.map(s => el('tr', { 'data-sequence': s.finalBatch, 'data-stage': s.stage, class: 'sequence' },
      td(s.finalBatch), td('(' + s.initBatch + ', ' + s.finalBatch + ']'), td(el('span', { class: 'stage ' + s.stage }, s.stage)),
      td(s.tasksTotal ? s.tasksDone + '/' + s.tasksTotal + (s.tasksParked ? ' (' + s.tasksParked + ' parked)' : '') : ''),
      td(s.submission), td(s.roundStart ? s.roundStart + ' → ' + s.hashWindowEnd + ' → ' + s.proofWindowEnd : ''),
      td(windowBar(s, snap.block)), td(s.note, 'note')));
    fillBody('sequences', 'sequences-empty', rows);
  }

  // The round's hash window (T1) and proof window (T2) on a block axis, with the current block and the verification.
  function windowBar(s, block) {
    if (!s.roundStart || !s.proofWindowEnd) return '';
    const from = s.roundStart - 1, to = s.proofWindowEnd + 1, width = 220;
    const x = b => Math.max(0, Math.min(width, (b - from) / (to - from) * width));
    const bar = svg('svg', { class: 'window', viewBox: '0 0 ' + width + ' 16' });
    const title = svg('title', {});
    title.textContent = 'round ' + s.roundStart + ': hash window to ' + s.hashWindowEnd + ', proof window to ' + s.proofWindowEnd + (block ? ', now ' + block : '');
    bar.append(title);
    bar.append(svg('rect', { x: x(s.roundStart), y: 3, width: x(s.hashWindowEnd) - x(s.roundStart), height: 10, fill: '#2f6fb3' }));
    bar.append(svg('rect', { x: x(s.hashWindowEnd), y: 3, width: x(s.proofWindowEnd) - x(s.hashWindowEnd), height: 10, fill: '#2e8b57' }));
    if (s.verifiedBlock) bar.append(svg('rect', { x: x(s.verifiedBlock) - 1, y: 0, width: 3, height: 16, fill: '#3fb950' }));
    if (block) {
      const past = block > to, before = block < from;
      bar.append(svg('rect', { x: past ? width - 3 : before ? 0 : x(block) - 1, y: 0, width: 3, height: 16, fill: '#f85149', opacity: past || before ? 0.5 : 1 }));
    }
    return bar;
  }

  function renderTxs(txs) {
    if (!changed('txs', txs)) return;
    const rows = txs.map(t => el('tr', { 'data-state': t.state, class: 'tx' },
      td(t.nonce), td(t.kind), td(t.key, 'mono'), td(el('span', { class: 'stage ' + ({ Confirmed: 'verified', Failed: 'parked', Mined: 'revealed', Sent: 'committed' }[t.state] || '') }, t.state)),
      td(gwei(t.maxFee)), td(gwei(t.priorityFee)), td(t.replacements || ''), td(t.txHash ? t.txHash.slice(0, 10) + '…' : '', 'mono'), td(t.blockNumber)));
    fillBody('txs', 'txs-empty', rows);
  }

  function renderEarnings(snap) {
    const earnings = snap.earnings;
    let rewards = 0, slashed = 0, net = 0;
    const points = [];
    for (const e of earnings) {
      const eth = weiToEth(e.amountWei);
      if (e.kind === 'reward') rewards += eth; else slashed += eth;
      net += e.kind === 'reward' ? eth : -eth;
      points.push({ block: e.block, net, kind: e.kind });
    }
    $('stat-rewards').textContent = +rewards.toFixed(4);
    $('stat-slashes').textContent = earnings.filter(e => e.kind === 'slash').length;
    $('earnings-summary').textContent = earnings.length === 0 ? 'No reward or slash yet.'
      : 'rewards ' + +rewards.toFixed(4) + ' ETH, slashed ' + +slashed.toFixed(4) + ' ETH, net ' + +net.toFixed(4) + ' ETH over ' + earnings.length +
        ' events, blocks ' + earnings[0].block + ' to ' + Math.max(earnings[earnings.length - 1].block, snap.block || 0);
    if (!changed('earnings', [earnings, snap.block])) return;
    const chart = $('earnings');
    chart.replaceChildren();
    if (points.length === 0) return;
    const W = 800, H = 200, pad = 10;
    const first = points[0].block, last = Math.max(points[points.length - 1].block, snap.block || 0, first + 1);
    const lo = Math.min(0, ...points.map(p => p.net)), hi = Math.max(0.000001, ...points.map(p => p.net));
    const x = b => pad + (b - first) / (last - first) * (W - 2 * pad);
    const y = v => H - pad - (v - lo) / (hi - lo) * (H - 2 * pad);
    chart.append(svg('line', { x1: pad, x2: W - pad, y1: y(0), y2: y(0), stroke: '#27313d' }));
    let d = 'M ' + x(first) + ' ' + y(0);
    for (const p of points) d += ' H ' + x(p.block) + ' V ' + y(p.net);
    d += ' H ' + x(last);
    chart.append(svg('path', { d, fill: 'none', stroke: '#3fb950', 'stroke-width': 2, 'vector-effect': 'non-scaling-stroke' }));
    for (const p of points.filter(p => p.kind === 'slash')) chart.append(svg('circle', { cx: x(p.block), cy: y(p.net), r: 4, fill: '#f85149' }));
  }

  function renderParked(tasks) {
    if (!changed('parked', tasks)) return;
    const rows = tasks.map(t => {
      const button = el('button', { type: 'button', class: 'requeue', 'data-id': t.id }, 'Requeue');
      button.addEventListener('click', () => requeue(t.id, button));
      return el('tr', { 'data-id': t.id, class: 'parked-task' }, td('#' + t.id), td(t.kind), td(t.sequence), td('(' + t.fromBatch + ', ' + t.toBatch + ']'),
        td(t.attempts), td(t.lastError, 'note'), td(button));
    });
    fillBody('parked', 'parked-empty', rows);
  }

  async function requeue(id, button) {
    const token = $('operator-token').value.trim();
    if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
    const headers = { 'X-ZkPow-Operator': '1' };
    if (token) headers.Authorization = 'Bearer ' + token;
    const result = $('requeue-result');
    button.disabled = true;
    try {
      const response = await fetch('/api/tasks/' + encodeURIComponent(id) + '/requeue', { method: 'POST', headers, credentials: 'same-origin' });
      let body = null;
      try { body = await response.json(); } catch (e) { /* no JSON body */ }
      if (response.ok) {
        result.className = 'ok';
        result.textContent = 'Task #' + id + ' requeued.';
      } else {
        result.className = 'error';
        result.textContent = 'Requeue of task #' + id + ' refused (' + response.status + '): ' + (body && body.error ? body.error : response.statusText);
      }
    } catch (e) {
      result.className = 'error';
      result.textContent = 'Requeue of task #' + id + ' failed: ' + e.message;
    } finally {
      button.disabled = false;
    }
  }

  async function start() {
    $('operator-token').value = sessionStorage.getItem(TOKEN_KEY) || '';
    try {
      const response = await fetch('/api/dashboard', { cache: 'no-store' });
      if (response.ok) render(await response.json());
    } catch (e) { /* the event stream below retries */ }
    const events = new EventSource('/api/events');
    events.addEventListener('snapshot', e => {
      $('live').textContent = 'live';
      $('live').className = 'badge on';
      render(JSON.parse(e.data));
    });
    events.addEventListener('error', () => {
      $('live').textContent = 'reconnecting…';
      $('live').className = 'badge off';
    });
  }

  window.zkpowDashboard = { latest: () => latest };
  document.addEventListener('DOMContentLoaded', start);
})();
