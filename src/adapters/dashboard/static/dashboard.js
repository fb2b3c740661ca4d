// edge-net node dashboard: the page's only script (the Content-Security-Policy forbids inline
// script). Plain browser JavaScript, no build step. Data arrives as JSON snapshots (see
// src/adapters/dashboard/snapshot.ts): one from /api/snapshot at load, then one per second over
// Server-Sent Events from /events. Everything from the network is written with textContent, never
// as HTML, so a peer cannot inject markup through its id or tier name.
'use strict'

;(function () {
  const SNAPSHOT_VERSION = 1
  const MICRO = 1000000n
  const MAX_PEER_ROWS = 200

  const state = { last: null, charts: {}, stream: null }
  // Exposed for debugging in the console and for the browser test: the charts and the last snapshot.
  window.edgeNetDashboard = state

  function field (name) { return document.querySelector('[data-field="' + name + '"]') }
  function setText (name, text) { const el = field(name); if (el !== null) el.textContent = text }

  /** '12500000' micro → '12.5'; grouping on the whole part. Exact: BigInt, no float. */
  function credits (micro) {
    let v
    try { v = BigInt(micro) } catch { return '?' }
    const neg = v < 0n
    if (neg) v = -v
    const whole = (v / MICRO).toLocaleString('en-US')
    const frac = (v % MICRO).toString().padStart(6, '0').replace(/0+$/, '')
    return (neg ? '−' : '') + whole + (frac === '' ? '' : '.' + frac)
  }

  function duration (ms) {
    const s = Math.max(0, Math.floor(ms / 1000))
    if (s < 60) return s + ' s'
    const m = Math.floor(s / 60)
    if (m < 60) return m + ' min ' + (s % 60) + ' s'
    const h = Math.floor(m / 60)
    if (h < 48) return h + ' h ' + String(m % 60).padStart(2, '0') + ' min'
    return Math.floor(h / 24) + ' d ' + (h % 24) + ' h'
  }

  function hours (h) {
    if (h === 0) return '0'
    if (h < 0.01) return h.toExponential(2)
    if (h < 1000) return h.toFixed(2)
    return Math.round(h).toLocaleString('en-US')
  }

  function compact (v) {
    const a = Math.abs(v)
    if (a >= 1e6) return (v / 1e6) + 'M'
    if (a >= 1e3) return (v / 1e3) + 'k'
    return String(v)
  }

  function setBadge (name, text, st) {
    const el = field(name)
    if (el === null) return
    el.textContent = text
    el.dataset.state = st
  }

  function banner (text) {
    const el = field('banner')
    if (text === null) { el.hidden = true; return }
    el.textContent = text
    el.hidden = false
  }

  // ---- charts (uPlot) ------------------------------------------------------------------------

  const TIME_INCREMENTS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200]
  function clock (seconds) { return new Date(seconds * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }) }

  function chartWidth (el) { return Math.max(200, el.clientWidth) }
  const CHART_HEIGHT = 200

  function timeChart (el, label, stroke, fill) {
    return new uPlot({
      width: chartWidth(el),
      height: CHART_HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Number.isFinite(max) ? Math.max(1, max * 1.15) : 1] } },
      series: [{}, { label, stroke, fill, width: 2, spanGaps: false, points: { show: false } }],
      // Whole seconds only (samples are per interval), shown as local wall-clock time.
      axes: [{ incrs: TIME_INCREMENTS, space: 70, values: (u, ticks) => ticks.map(clock) }, { size: 50 }]
    }, [[], []], el)
  }

  function multiplierChart (el) {
    return new uPlot({
      width: chartWidth(el),
      height: CHART_HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false }, y: { range: [0, 10.5] } },
      series: [
        { label: 'network CPU-hours' },
        { label: 'multiplier', stroke: '#2a7de1', width: 2, spanGaps: true, points: { show: false } },
        {
          label: 'now',
          stroke: '#c9362b',
          fill: '#c9362b',
          width: 0,
          paths: () => null,
          points: { show: true, size: 12, width: 2, stroke: '#c9362b', fill: '#ffffff' }
        }
      ],
      axes: [{ values: (u, ticks) => ticks.map(compact), size: 40 }, { size: 52, values: (u, ticks) => ticks.map(t => t + '×') }]
    }, [[], [], []], el)
  }

  function makeCharts () {
    if (typeof uPlot !== 'function') { banner('The charting library did not load.'); return }
    const t = document.getElementById('chart-throughput')
    const l = document.getElementById('chart-latency')
    const m = document.getElementById('chart-multiplier')
    state.charts.throughput = timeChart(t, 'tasks/s', '#1f9d55', 'rgba(31,157,85,0.12)')
    state.charts.latency = timeChart(l, 'p50 ms', '#c77c02', 'rgba(199,124,2,0.10)')
    state.charts.multiplier = multiplierChart(m)
    const resize = new ResizeObserver(() => {
      state.charts.throughput.setSize({ width: chartWidth(t), height: CHART_HEIGHT })
      state.charts.latency.setSize({ width: chartWidth(l), height: CHART_HEIGHT })
      state.charts.multiplier.setSize({ width: chartWidth(m), height: CHART_HEIGHT })
    })
    for (const el of [t, l, m]) resize.observe(el)
  }

  function seriesData (points) {
    // uPlot wants [xs, ys] with time in seconds.
    const xs = []
    const ys = []
    for (const p of points) { xs.push(p[0] / 1000); ys.push(p[1]) }
    return [xs, ys]
  }

  /** The curve plus the current point, merged on one ascending x axis (uPlot's aligned data). */
  function multiplierData (m) {
    const rows = m.curve.map(p => [p[0], p[1], null])
    const i = rows.findIndex(r => r[0] >= m.networkHours)
    if (i === -1) rows.push([m.networkHours, null, m.value])
    else if (rows[i][0] === m.networkHours) rows[i][2] = m.value
    else rows.splice(i, 0, [m.networkHours, null, m.value])
    return [rows.map(r => r[0]), rows.map(r => r[1]), rows.map(r => r[2])]
  }

  function renderCharts (snap) {
    if (state.charts.throughput === undefined) return
    state.charts.throughput.setData(seriesData(snap.series.throughput))
    state.charts.latency.setData(seriesData(snap.series.latencyP50))
    state.charts.multiplier.setData(multiplierData(snap.multiplier))
  }

  // ---- tables ----------------------------------------------------------------------------------

  function cell (row, text, cls) {
    const td = document.createElement('td')
    td.textContent = text
    if (cls !== undefined) td.className = cls
    row.appendChild(td)
    return td
  }

  function tierCell (row, tier) {
    const td = document.createElement('td')
    const span = document.createElement('span')
    span.className = 'tier'
    span.dataset.tier = tier
    span.textContent = tier
    td.appendChild(span)
    row.appendChild(td)
  }

  function reputationCell (row, score) {
    const td = cell(row, score.toFixed(3), 'num')
    const bar = document.createElement('span')
    bar.className = 'bar'
    const fill = document.createElement('span')
    fill.style.width = Math.round(Math.min(1, Math.max(0, score)) * 100) + '%'
    bar.appendChild(fill)
    td.appendChild(bar)
  }

  function renderPeers (snap) {
    const peers = [...snap.peers].sort((a, b) => (a.stale - b.stale) || (b.reputation - a.reputation))
    const tbody = field('peers.rows')
    const rows = []
    for (const p of peers.slice(0, MAX_PEER_ROWS)) {
      const tr = document.createElement('tr')
      tr.dataset.stale = String(p.stale)
      const id = cell(tr, p.id, 'mono')
      id.title = p.id
      tierCell(tr, p.tier)
      reputationCell(tr, p.reputation)
      cell(tr, duration(snap.generatedAtMs - p.lastSeenMs) + ' ago', 'num')
      cell(tr, p.stale ? 'stale' : 'live')
      rows.push(tr)
    }
    tbody.replaceChildren(...rows)
    field('peers.empty').hidden = peers.length > 0
    const stale = peers.filter(p => p.stale).length
    setText('peers.live', String(peers.length - stale))
    setText('peers.stale', stale === 0 ? 'live, none stale' : 'live, ' + stale + ' stale')
  }

  function renderAccounts (snap) {
    const panel = field('accounts.panel')
    if (!Array.isArray(snap.accounts) || snap.accounts.length === 0) { panel.hidden = true; return }
    panel.hidden = false
    const rows = snap.accounts.slice(0, 50).map(a => {
      const tr = document.createElement('tr')
      const id = cell(tr, a.id, 'mono')
      id.title = a.id
      cell(tr, credits(a.balance), 'num')
      cell(tr, credits(a.staked), 'num')
      return tr
    })
    field('accounts.rows').replaceChildren(...rows)
  }

  // ---- the whole page --------------------------------------------------------------------------

  function render (snap) {
    if (snap === null || typeof snap !== 'object' || snap.version !== SNAPSHOT_VERSION) {
      banner('This node sent a snapshot of another version; reload the page after upgrading.')
      return
    }
    state.last = snap
    banner(null)
    setText('node.id', snap.node.id)
    field('node.id').title = snap.node.id
    setText('node.networkId', snap.node.networkId)
    setText('node.uptime', duration(snap.node.uptimeMs))
    setBadge('node.state', snap.node.paused ? 'paused' : 'running', snap.node.paused ? 'paused' : 'running')

    const a = snap.account
    setText('account.balance', credits(a.balance))
    setText('account.staked', credits(a.staked))
    setText('account.reserved', credits(a.reserved))
    setText('account.earned', credits(a.earned))
    setText('account.slashed', credits(a.slashed))
    setText('account.reputation', a.reputation.toFixed(3))
    setText('account.tier', a.tier)
    field('account.tier').dataset.tier = a.tier

    const t = snap.tasks
    for (const k of ['inFlight', 'completed', 'failed', 'submitted', 'verified']) {
      setText('tasks.' + k, Number(t[k]).toLocaleString('en-US'))
    }

    setText('multiplier.value', snap.multiplier.value.toFixed(3) + '×')
    setText('multiplier.hours', hours(snap.multiplier.networkHours))
    setText('multiplier.stage', snap.multiplier.stage)

    renderPeers(snap)
    renderAccounts(snap)
    renderCharts(snap)
    setText('generatedAt', 'Last update ' + new Date(snap.generatedAtMs).toLocaleTimeString() + '.')
  }

  function onSnapshotText (text) {
    let snap
    try { snap = JSON.parse(text) } catch { banner('The node sent an unreadable snapshot.'); return }
    render(snap)
  }

  function connect () {
    if (typeof EventSource !== 'function') { poll(); return }
    const es = new EventSource('/events')
    state.stream = es
    es.addEventListener('open', () => { setBadge('connection', 'live', 'live') })
    es.addEventListener('snapshot', e => { setBadge('connection', 'live', 'live'); onSnapshotText(e.data) })
    es.addEventListener('fault', () => { setBadge('connection', 'stale', 'stale') })
    // EventSource reconnects by itself (the server asks for 2 s); say so meanwhile.
    es.addEventListener('error', () => { setBadge('connection', 'reconnecting', 'reconnecting') })
  }

  function poll () {
    fetch('/api/snapshot', { cache: 'no-store' })
      .then(r => r.ok ? r.text().then(onSnapshotText) : setBadge('connection', 'stale', 'stale'))
      .catch(() => { setBadge('connection', 'reconnecting', 'reconnecting') })
      .finally(() => { setTimeout(poll, 2000) })
  }

  function start () {
    makeCharts()
    fetch('/api/snapshot', { cache: 'no-store' })
      .then(r => r.ok ? r.text().then(onSnapshotText) : undefined)
      .catch(() => {})
      .finally(connect)
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
  else start()
})()
