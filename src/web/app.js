// The swarm page. Plain browser JavaScript, no dependencies: it listens to /ui/events (SSE, authenticated
// by the session cookie) and redraws. Every value from the daemon goes in through textContent or SVG
// attributes, never as HTML.
const $ = (sel) => document.querySelector(sel)
const SVG = 'http://www.w3.org/2000/svg'
const TAIL_MAX = 200

// C0 and C1 controls, DEL and the bidi controls in a payload are shown as \xNN or \uNNNN, as the CLI shows them
// (src/wire/format.ts): a newline would draw a second tail row that looks like another origin's message, and
// an override would reverse the text
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g
const visible = (s) => String(s).replace(UNSAFE, c => {
  const n = c.charCodeAt(0)
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`
})
const short = (id) => id == null ? '?' : id.length > 14 ? `…${id.slice(-8)}` : id
const el = (tag, attrs = {}, ...children) => {
  const e = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v
    else if (k === 'class') e.setAttribute('class', v)
    else e.setAttribute(k, String(v))
  }
  for (const c of children) e.append(c)
  return e
}
const fmtBytes = (n) => n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`
const fmtDur = (ms) => { const s = Math.floor(ms / 1000); return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${Math.floor(s / 3600)}h ${Math.floor(s / 60) % 60}m` }
const time = (t) => new Date(t).toLocaleTimeString()

function replaceRows (tbody, rows) {
  tbody.replaceChildren(...rows.map(cells => el('tr', {}, ...cells.map(c => c instanceof Node ? el('td', {}, c) : el('td', typeof c === 'number' ? { class: 'num', text: String(c) } : { text: c ?? '' })))))
}

function spark (values, maxValues) {
  const w = 160; const h = 28
  const all = [...values, ...(maxValues ?? [])].filter(v => v != null)
  const top = Math.max(1, ...all)
  const line = (vals, cls) => {
    const pts = []
    vals.forEach((v, i) => { if (v != null) pts.push(`${(i / (vals.length - 1)) * w},${h - 1 - (v / top) * (h - 2)}`) })
    return el('svg:polyline', { points: pts.join(' '), class: cls })
  }
  const s = el('svg:svg', { class: 'spark', viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: 'none' })
  s.append(line(values, 'v'))
  if (maxValues != null) s.append(line(maxValues, 'max'))
  return s
}

let last = null

function drawSelf (snap) {
  const s = snap.self
  $('#self-id').textContent = s.peerId
  const stats = [
    ['version', s.version ?? '?'], ['uptime', fmtDur(s.uptimeMs ?? 0)], ['peers', s.peers], ['topics', s.topics],
    ['consumers', s.consumers], ['pending writes', s.pendingWrites], ['gossip queued', s.gossipQueued],
    ['gossip skipped', s.gossipSkipped], ['shed', s.inboundShed], ['rejected', s.rejected],
    // losses and lies a person watching should see without a dashboard
    ['gaps given up', s.sync?.gapsGivenUp ?? 0], ['forked streams', s.forks ?? 0],
  ]
  $('#self-stats').replaceChildren(...stats.map(([k, v]) => el('div', {}, el('dt', { text: k }), el('dd', { text: String(v) }))))
}

function drawPeers (snap) {
  $('#peer-count').textContent = String(snap.peers.length)
  replaceRows($('#peers tbody'), snap.peers.map(p => [
    el('span', { class: 'mono', title: p.id, text: short(p.id) }), p.direction, el('span', { class: 'mono', text: p.addrs.join(', ') }),
    p.rtt != null ? `${Math.round(p.rtt)} ms` : '-', p.topics.join(', ') || '-',
  ]))
  $('#peers tbody').querySelectorAll('tr').forEach((tr, i) => tr.setAttribute('data-peer', snap.peers[i].id))
}

function drawGraph (snap) {
  const sel = $('#graph-topic')
  const topics = snap.topics.map(t => t.topic)
  if ([...sel.options].map(o => o.value).join('\n') !== topics.join('\n')) {
    const keep = sel.value
    sel.replaceChildren(...topics.map(t => el('option', { value: t, text: t })))
    if (topics.includes(keep)) sel.value = keep
  }
  const topic = snap.topics.find(t => t.topic === sel.value)
  const mesh = new Set(topic?.mesh ?? [])
  const svg = $('#graph')
  const cx = 200; const cy = 150; const r = 110
  const peers = snap.peers
  const pos = peers.map((p, i) => {
    const a = (2 * Math.PI * i) / Math.max(1, peers.length) - Math.PI / 2
    return { p, x: cx + r * Math.cos(a), y: cy + r * Math.sin(a) }
  })
  const edges = pos.map(({ p, x, y }) => el('svg:line', { x1: cx, y1: cy, x2: x, y2: y, class: mesh.has(p.id) ? 'edge mesh' : 'edge' }))
  const node = (x, y, label, cls, title) => {
    const g = el('svg:g', { class: `node ${cls}` }, el('svg:circle', { cx: x, cy: y, r: 14 }), el('svg:text', { x, y: y + 28, text: label }))
    g.append(el('svg:title', { text: title }))
    return g
  }
  svg.replaceChildren(...edges, node(cx, cy, 'this node', 'self', snap.self.peerId), ...pos.map(({ p, x, y }) => node(x, y, short(p.id), 'peer', `${p.id}\n${p.direction} ${p.addrs.join(' ')}`)))
}

function drawTopics (snap) {
  replaceRows($('#topics tbody'), snap.topics.map(t => {
    const rate = t.rate.length > 0 ? t.rate[t.rate.length - 1] : 0
    const lat = t.latencyMeanMs.filter(v => v != null)
    return [
      el('span', { class: 'mono', text: t.topic }), `${t.messages} (${fmtBytes(t.bytes)})`, t.peers, t.mesh.length,
      el('span', {}, spark(t.rate), ` ${rate}/s`),
      el('span', {}, spark(t.latencyMeanMs, t.latencyMaxMs), lat.length > 0 ? ` ${lat[lat.length - 1].toFixed(1)}` : ' -'),
    ]
  }))
  const known = new Set([...$('#tail-topic').options].map(o => o.value))
  for (const t of snap.topics) if (!known.has(t.topic)) $('#tail-topic').append(el('option', { value: t.topic, text: t.topic }))
  $('#topic-list').replaceChildren(...snap.topics.map(t => el('option', { value: t.topic })))
  if ($('#pub-topic').value === '' && snap.topics.length > 0 && document.activeElement !== $('#pub-topic')) $('#pub-topic').value = snap.topics[0].topic
}

function drawSync (snap) {
  $('#sync-totals').textContent = `${snap.sync.pulls} pulls, ${snap.sync.failed} failed, ${snap.sync.stored} new messages`
  replaceRows($('#sync tbody'), snap.sync.recent.slice(0, 8).map(s => [
    time(s.time), el('span', { class: 'mono', title: s.peer, text: short(s.peer) }), el('span', { class: s.ok ? 'ok' : 'bad', text: s.ok ? 'ok' : `failed ${s.error ?? ''}` }), s.received, s.stored, s.ms,
  ]))
}

function drawConsumers (snap) {
  replaceRows($('#consumers tbody'), snap.consumers.map(c => [c.topic, c.name ?? '(anonymous)', c.lag, c.unacked ?? '-']))
}

function addTail (m) {
  const filter = $('#tail-topic').value
  const li = el('li', { 'data-topic': m.topic },
    el('span', { class: 'meta', text: `${time(m.ts)} ` }), el('span', { class: 'topic', text: m.topic }),
    el('span', { class: 'meta', text: ` ${short(m.origin)}#${m.seq} ${m.source} ` }),
    el('span', { class: 'payload', text: m.binary ? `(base64) ${m.preview}` : visible(m.preview) }))
  if (filter !== '' && filter !== m.topic) li.hidden = true
  const list = $('#tail')
  list.prepend(li)
  while (list.children.length > TAIL_MAX) list.lastElementChild.remove()
}

/**
 * Why /ui/events refused the page. EventSource gives up on any answer but a stream without saying which,
 * so the page asks once more: a 401 is a lost session (daemon restarted?), a 503 a daemon that already
 * serves as many streams as it may (TOO_MANY_STREAMS) or whose node is not running.
 */
async function whyRefused () {
  const ac = new AbortController()
  try {
    const res = await fetch('/ui/events', { signal: ac.signal })
    if (res.status === 401) return 'logged out: run gossipd ui'
    if (res.ok) return 'disconnected, retrying'
    const body = await res.json().catch(() => ({}))
    if (body.error?.code === 'TOO_MANY_STREAMS') return 'too many pages or streams open on this daemon: close one (retrying)'
    return `refused: ${body.error?.message ?? res.status} (retrying)`
  } catch {
    return 'disconnected, retrying'
  } finally {
    // an answer that was a stream after all holds one of the daemon's stream slots until closed
    ac.abort()
  }
}

function connect () {
  const es = new EventSource('/ui/events')
  // a 'dropped' event arrived since the last snapshot (sent once a second, after any count of the second before)
  let droppedSince = false
  es.addEventListener('open', () => { $('#conn').textContent = 'live'; $('#conn').className = 'badge live' })
  es.addEventListener('error', () => {
    $('#conn').textContent = 'disconnected, retrying'; $('#conn').className = 'badge down'
    // a refusal (401, 503) ends the stream for good: say why, and try again later
    if (es.readyState === EventSource.CLOSED) {
      whyRefused().then(why => { if ($('#conn').className === 'badge down') $('#conn').textContent = why })
      setTimeout(connect, 5000)
    }
  })
  es.addEventListener('snapshot', (e) => {
    last = JSON.parse(e.data)
    drawSelf(last); drawPeers(last); drawGraph(last); drawTopics(last); drawSync(last); drawConsumers(last)
    // a second went by with every message shown: the note about the last burst is stale
    if (!droppedSince) $('#tail-dropped').textContent = ''
    droppedSince = false
  })
  es.addEventListener('message', (e) => addTail(JSON.parse(e.data)))
  es.addEventListener('dropped', (e) => {
    droppedSince = true
    $('#tail-dropped').textContent = `(${JSON.parse(e.data).messages} not shown in the last second)`
  })
}

$('#graph-topic').addEventListener('change', () => { if (last != null) drawGraph(last) })
$('#tail-topic').addEventListener('change', () => {
  const f = $('#tail-topic').value
  for (const li of $('#tail').children) li.hidden = f !== '' && li.dataset.topic !== f
})
$('#publish').addEventListener('submit', async (ev) => {
  ev.preventDefault()
  const topic = $('#pub-topic').value.trim()
  const out = $('#pub-result')
  try {
    const res = await fetch(`/v1/topics/${encodeURIComponent(topic)}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-gossipd-ui': '1' },
      body: JSON.stringify({ payload: $('#pub-message').value }),
    })
    const body = await res.json()
    if (!res.ok) throw new Error(body.error?.message ?? res.statusText)
    out.textContent = `published: seq ${body.seq}, offset ${body.offset}`; out.className = 'ok'
    $('#pub-message').value = ''
  } catch (err) {
    out.textContent = `failed: ${err.message}`; out.className = 'bad'
  }
})
connect()
