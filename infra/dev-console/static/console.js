// The dev console's page: one EventSource, plain DOM. Everything shown is set as text (textContent,
// attributes), never parsed as markup: message bodies, keys and log lines are untrusted.

const SVG = 'http://www.w3.org/2000/svg';
const MAX_ROWS = 1000;

const state = {
  broker: { embedded: true, endpoint: '' },
  functions: [],
  topics: [],
  messages: new Map(),
  invocations: new Map(),
  graph: { edges: {}, topics: {}, invocations: {} },
  stats: [],
  spool: null,
};
const open = new Set();
const $ = (id) => document.getElementById(id);

/** An element with attributes and children; strings become text nodes. */
function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function s(tag, attrs, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs ?? {})) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = String(text);
  return element;
}

const time = (ms) => {
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
};
const bytes = (n) => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`);
const shortList = (items) =>
  items.length > 3 ? `${items.slice(0, 3).join(', ')} +${items.length - 3} more` : items.join(', ');
const badge = (text, kind) => h('span', { class: `badge ${kind ?? ''}` }, text);

function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function flash(element) {
  if (!element) return;
  element.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  element.classList.remove('flash');
  void element.offsetWidth;
  element.classList.add('flash');
}

/** A link that shows its target on this page instead of navigating. */
function follow(event, show) {
  event.preventDefault();
  show();
}

function invocationLink(id) {
  const invocation = state.invocations.get(id);
  const label = invocation ? `${invocation.functionName} (${invocation.source})` : id;
  return h('a', { href: `#${id}`, onclick: (e) => follow(e, () => showInvocation(id)) }, label);
}

function messageLink(messageId) {
  return h(
    'a',
    { href: `#m-${messageId}`, class: 'mono', onclick: (e) => follow(e, () => showMessage(messageId)) },
    messageId,
  );
}

function showInvocation(id) {
  open.add(id);
  const row = rows.invocations.get(id);
  if (row) renderInvocation(state.invocations.get(id));
  flash(rows.invocations.get(id));
}

function showMessage(messageId) {
  const message = state.messages.get(messageId);
  if (!message) return;
  for (const id of ['filter-topic', 'filter-tag', 'filter-key']) $(id).value = '';
  applyFilters();
  open.add(`m-${messageId}`);
  renderMessage(message);
  flash(rows.messages.get(messageId));
}

const rows = { messages: new Map(), invocations: new Map() };

/** Keeps a `<details>` open across re-renders. */
function details(key, summary, body) {
  const element = h('details', { open: open.has(key) }, h('summary', {}, summary), body);
  element.addEventListener('toggle', () => (element.open ? open.add(key) : open.delete(key)));
  return element;
}

/** Puts a row in place of its old one, or first; past MAX_ROWS the oldest row and its record go. */
function upsert(list, map, key, element, records) {
  const old = map.get(key);
  if (old) old.replaceWith(element);
  else {
    list.prepend(element);
    if (map.size >= MAX_ROWS) {
      const [oldest, row] = map.entries().next().value;
      map.delete(oldest);
      records.delete(oldest);
      row.remove();
    }
  }
  map.set(key, element);
}

// Topics panel

function messageBody(message) {
  if (message.bodyEncoding === 'base64') return `(binary, base64)\n${message.body}`;
  const packed = message.properties['pack-records'];
  const text = packed ? message.body : pretty(message.body);
  return `${packed ? `(a pack of ${packed} records)\n` : ''}${text}${message.truncated ? '\n… (cut)' : ''}`;
}

function renderMessage(message) {
  const properties = Object.entries(message.properties);
  const summary = [
    h('span', { class: 'time' }, time(message.storeTime)),
    badge(message.topic, 'topic'),
    message.tag ? h('span', {}, `tag ${message.tag}`) : null,
    message.keys.length ? h('span', { class: 'mono' }, `keys ${shortList(message.keys)}`) : null,
    h('span', { class: 'time' }, bytes(message.size)),
  ];
  const body = h(
    'div',
    {},
    h(
      'dl',
      { class: 'kv' },
      h('dt', {}, 'message id'),
      h('dd', { class: 'mono' }, message.messageId),
      h('dt', {}, 'type'),
      h('dd', {}, message.type),
      h('dt', {}, 'tag / keys'),
      h('dd', { class: 'mono' }, `${message.tag ?? '–'} / ${message.keys.join(', ') || '–'}`),
      h('dt', {}, 'born / stored'),
      h('dd', {}, `${time(message.bornTime)} / ${time(message.storeTime)}`),
      h('dt', {}, 'sent by'),
      h(
        'dd',
        {},
        message.sentBy ? invocationLink(message.sentBy) : 'not known (sent from outside this process)',
      ),
      h('dt', {}, 'consumed by'),
      h(
        'dd',
        {},
        message.consumedBy.length
          ? message.consumedBy.map((id) => h('div', {}, invocationLink(id)))
          : 'none yet',
      ),
      properties.flatMap(([name, value]) => [
        h('dt', { class: 'mono' }, name),
        h('dd', { class: 'mono' }, value),
      ]),
    ),
    h('pre', { class: 'body' }, messageBody(message)),
  );
  const key = `m-${message.messageId}`;
  const row = h(
    'li',
    { id: key, 'data-message-id': message.messageId, 'data-topic': message.topic },
    details(key, summary, body),
  );
  upsert($('messages'), rows.messages, message.messageId, row, state.messages);
  filterRow(row, message);
}

function filterRow(row, message) {
  const topic = $('filter-topic').value;
  const tag = $('filter-tag').value.trim().toLowerCase();
  const key = $('filter-key').value.trim().toLowerCase();
  row.hidden =
    (topic !== '' && message.topic !== topic) ||
    (tag !== '' && !(message.tag ?? '').toLowerCase().includes(tag)) ||
    (key !== '' && !message.keys.some((k) => k.toLowerCase().includes(key)));
}

function applyFilters() {
  for (const [id, row] of rows.messages) filterRow(row, state.messages.get(id));
}

function renderTopicOptions() {
  const select = $('filter-topic');
  const known = new Set([...select.options].map((o) => o.value));
  for (const topic of state.topics)
    if (!known.has(topic)) select.append(h('option', { value: topic }, topic));
  $('message-count').textContent = `${state.messages.size} shown`;
}

// Functions panel

function renderSamples() {
  const container = $('samples');
  container.replaceChildren();
  for (const fn of state.functions) {
    container.append(
      h('strong', {}, fn.name),
      h(
        'div',
        {},
        fn.samples.length === 0 ? h('span', { class: 'hint' }, 'no sample event') : null,
        fn.samples.map((sample) =>
          h(
            'button',
            {
              type: 'button',
              'data-sample': sample.path,
              title: `npm run invoke -- -f ${fn.name} -p events/${sample.path} --platform ${sample.platform}`,
              onclick: runSample,
            },
            sample.path,
          ),
        ),
      ),
    );
  }
}

async function runSample(event) {
  const button = event.currentTarget;
  button.disabled = true;
  try {
    const response = await fetch(`/_dev/invoke?sample=${encodeURIComponent(button.dataset.sample)}`, {
      method: 'POST',
    });
    const answer = await response.json();
    if (answer.invocation) showInvocation(answer.invocation);
  } catch (error) {
    console.warn('invoke failed', error);
  } finally {
    button.disabled = false;
  }
}

function renderInvocation(invocation) {
  const summary = [
    h('span', { class: 'time' }, time(invocation.startedAt)),
    badge(invocation.functionName, 'fn'),
    badge(invocation.platform),
    h('span', {}, invocation.source),
    badge(invocation.status, invocation.status),
    invocation.durationMs === null ? null : h('span', { class: 'time' }, `${invocation.durationMs} ms`),
  ];
  const sent = invocation.sent.map((send) =>
    h(
      'li',
      {},
      badge(send.topic, 'topic'),
      ' ',
      badge(send.outcome, send.outcome),
      ` ${send.mode}${send.tag ? ` tag ${send.tag}` : ''}${send.keys.length ? ` keys ${shortList(send.keys)}` : ''} `,
      send.messageId ? messageLink(send.messageId) : null,
      send.error ? h('div', { class: 'mono' }, send.error) : null,
    ),
  );
  const body = h(
    'div',
    {},
    h(
      'dl',
      { class: 'kv' },
      h('dt', {}, 'trigger'),
      h('dd', {}, invocation.trigger),
      h('dt', {}, 'event'),
      h(
        'dd',
        {},
        invocation.sample
          ? h(
              'a',
              { href: `/_dev/samples/${invocation.sample}`, target: '_blank', rel: 'noopener' },
              `events/${invocation.sample}`,
            )
          : invocation.source,
      ),
      invocation.consumed.length
        ? [
            h('dt', {}, 'consumed'),
            h(
              'dd',
              {},
              invocation.consumed.map((id) => h('div', {}, messageLink(id))),
            ),
          ]
        : null,
    ),
    invocation.error
      ? h(
          'pre',
          { class: 'error' },
          `${invocation.error.type}${invocation.error.code ? ` (${invocation.error.code})` : ''}: ${invocation.error.message}`,
        )
      : null,
    invocation.result !== null ? h('pre', { class: 'result' }, invocation.result) : null,
    h('h3', {}, `sent (${invocation.sent.length})`),
    h('ul', {}, sent),
    h(
      'h3',
      {},
      `log lines (${invocation.logs.length}${invocation.logsDropped ? ` + ${invocation.logsDropped} dropped` : ''})`,
    ),
    h('pre', { class: 'logs' }, invocation.logs.join('\n')),
  );
  const row = h(
    'li',
    { id: invocation.id, 'data-function': invocation.functionName, 'data-status': invocation.status },
    details(invocation.id, summary, body),
  );
  upsert($('invocations'), rows.invocations, invocation.id, row, state.invocations);
  $('invocation-count').textContent = `${state.invocations.size} invocations`;
}

// Workflow graph

function layout() {
  const nodes = new Map();
  const edges = [];
  const add = (id, kind, name) =>
    nodes.has(id) || nodes.set(id, { id, kind, name, layer: undefined, out: [] });
  for (const fn of state.functions) add(`f:${fn.name}`, 'fn', fn.name);
  for (const topic of state.topics) add(`t:${topic}`, 'topic', topic);
  const edge = (from, to) => {
    const key = `${from}>${to}`;
    if (edges.some((e) => e.key === key)) return;
    if (!nodes.has(from) || !nodes.has(to)) return;
    edges.push({ key, from, to, count: state.graph.edges[key] ?? 0 });
    nodes.get(from).out.push(to);
  };
  for (const fn of state.functions) {
    for (const topic of fn.sends) edge(`f:${fn.name}`, `t:${topic}`);
    for (const topic of fn.consumes) edge(`t:${topic}`, `f:${fn.name}`);
  }
  for (const key of Object.keys(state.graph.edges)) {
    const [from, to] = key.split('>');
    if (from && to) {
      add(from, from.startsWith('f:') ? 'fn' : 'topic', from.slice(2));
      add(to, to.startsWith('f:') ? 'fn' : 'topic', to.slice(2));
      edge(from, to);
    }
  }
  // Layers: functions started from outside first, then what each sends to and what that triggers.
  const queue = [];
  for (const fn of state.functions) {
    if (fn.trigger !== 'rocketmq') {
      nodes.get(`f:${fn.name}`).layer = 0;
      queue.push(`f:${fn.name}`);
    }
  }
  while (queue.length) {
    const node = nodes.get(queue.shift());
    for (const next of node.out) {
      const target = nodes.get(next);
      if (target.layer === undefined) {
        target.layer = node.layer + 1;
        queue.push(next);
      }
    }
  }
  for (const node of nodes.values()) node.layer ??= node.kind === 'fn' ? 0 : 1;
  return { nodes: [...nodes.values()], edges };
}

function renderGraph() {
  const { nodes, edges } = layout();
  const columns = new Map();
  for (const node of nodes) {
    if (!columns.has(node.layer)) columns.set(node.layer, []);
    columns.get(node.layer).push(node);
  }
  const colWidth = 230;
  const rowHeight = 64;
  const width = 190;
  const height = 46;
  let rowsMax = 0;
  for (const [layer, list] of columns) {
    list.forEach((node, i) => {
      node.x = 10 + layer * colWidth;
      node.y = 10 + i * rowHeight;
    });
    rowsMax = Math.max(rowsMax, list.length);
  }
  const svgWidth = 20 + Math.max(...columns.keys(), 0) * colWidth + width;
  const svgHeight = 40 + rowsMax * rowHeight;
  const svg = s('svg', {
    viewBox: `0 0 ${svgWidth} ${svgHeight}`,
    role: 'img',
    'aria-label': 'workflow graph',
  });
  const byId = new Map(nodes.map((n) => [n.id, n]));
  for (const e of edges) {
    const a = byId.get(e.from);
    const b = byId.get(e.to);
    let d;
    let mid;
    if (b.layer > a.layer) {
      const [x1, y1, x2, y2] = [a.x + width, a.y + height / 2, b.x, b.y + height / 2];
      const c = (x2 - x1) / 2;
      d = `M${x1},${y1} C${x1 + c},${y1} ${x2 - c},${y2} ${x2},${y2}`;
      mid = [(x1 + x2) / 2, (y1 + y2) / 2];
    } else {
      // A way back (a retry topic feeding its function again): a loop under both nodes.
      const [x1, y1, x2, y2] = [a.x + width / 2, a.y + height, b.x + width / 2, b.y + height];
      const drop = Math.max(y1, y2) + 24;
      d = `M${x1},${y1} C${x1},${drop} ${x2},${drop} ${x2},${y2}`;
      mid = [(x1 + x2) / 2, drop - 6];
    }
    svg.append(
      s('path', { d, class: `edge ${e.count > 0 ? 'seen' : 'declared'}`, 'marker-end': 'url(#arrow)' }),
    );
    if (e.count > 0)
      svg.append(
        s('text', { x: mid[0], y: mid[1] - 3, 'text-anchor': 'middle', class: 'edge-label' }, e.count),
      );
  }
  const defs = s('defs');
  const marker = s('marker', {
    id: 'arrow',
    viewBox: '0 0 10 10',
    refX: 9,
    refY: 5,
    markerWidth: 7,
    markerHeight: 7,
    orient: 'auto',
  });
  marker.append(s('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#667085' }));
  defs.append(marker);
  svg.prepend(defs);
  for (const node of nodes) {
    const g = s('g', {
      class: `node ${node.kind}`,
      'data-node': node.id,
      transform: `translate(${node.x},${node.y})`,
    });
    g.append(s('rect', { width, height, rx: node.kind === 'fn' ? 6 : 20 }));
    g.append(s('text', { x: 10, y: 18 }, node.name));
    if (node.kind === 'fn') {
      const fn = state.functions.find((f) => f.name === node.name);
      g.append(s('text', { x: 10, y: 35, class: 'sub' }, fn ? fn.triggerLabel : ''));
      g.append(
        s(
          'text',
          { x: width - 8, y: 18, 'text-anchor': 'end', class: 'num' },
          state.graph.invocations[node.name] ?? 0,
        ),
      );
    } else {
      const count = state.broker.embedded ? (state.graph.topics[node.name] ?? 0) : '–';
      g.append(
        s(
          'text',
          { x: 10, y: 35, class: 'sub' },
          state.broker.embedded ? 'messages stored' : 'external broker',
        ),
      );
      g.append(s('text', { x: width - 12, y: 18, 'text-anchor': 'end', class: 'num' }, count));
    }
    svg.append(g);
  }
  $('graph').replaceChildren(svg);
}

// Producer health

const MODES = ['sync', 'async', 'oneway'];
const COUNTERS = ['sent', 'failed', 'retried', 'spooled', 'dropped'];

function renderStats() {
  const latest = state.stats.at(-1)?.stats;
  const table = $('stats');
  table.replaceChildren(
    h(
      'tr',
      {},
      h('th', {}, 'mode'),
      COUNTERS.map((c) => h('th', {}, c)),
    ),
  );
  for (const mode of MODES) {
    table.append(
      h(
        'tr',
        { 'data-mode': mode },
        h('td', {}, mode),
        COUNTERS.map((c) => h('td', {}, latest ? latest[mode][c] : '–')),
      ),
    );
  }
  $('stats-extra').textContent = latest
    ? `in flight ${latest.inFlight} · client resets ${latest.clientResets} · callback errors ${latest.callbackErrors} · latency p50 ${latest.latencyMs.p50.toFixed(1)} ms, p99 ${latest.latencyMs.p99.toFixed(1)} ms over ${latest.latencyMs.count} sends`
    : 'No function has created its producer yet.';
  renderChart();
}

function renderChart() {
  const width = 420;
  const height = 130;
  const left = 34;
  const samples = state.stats.filter((sample) => sample.stats);
  const svg = s('svg', {
    class: 'chart',
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': 'send latency p50 and p99',
  });
  const max = Math.max(1, ...samples.map((sample) => sample.stats.latencyMs.p99)) * 1.1;
  const y = (v) => height - 18 - (v / max) * (height - 30);
  const x = (i) => left + (i / Math.max(1, samples.length - 1)) * (width - left - 8);
  svg.append(s('line', { x1: left, y1: y(0), x2: width - 8, y2: y(0), class: 'axis' }));
  svg.append(s('text', { x: left - 4, y: y(0) + 3, 'text-anchor': 'end' }, '0'));
  svg.append(
    s('text', { x: left - 4, y: y(max / 1.1) + 3, 'text-anchor': 'end' }, `${(max / 1.1).toFixed(0)}`),
  );
  svg.append(s('text', { x: left, y: height - 4 }, `send latency (ms), last ${samples.length} s`));
  svg.append(s('text', { x: width - 8, y: 10, 'text-anchor': 'end' }, 'p50 ── blue   p99 ── red'));
  for (const key of ['p50', 'p99']) {
    const points = samples.map(
      (sample, i) => `${x(i).toFixed(1)},${y(sample.stats.latencyMs[key]).toFixed(1)}`,
    );
    if (points.length) svg.append(s('polyline', { points: points.join(' '), class: key }));
  }
  $('latency').replaceChildren(svg);
}

function renderSpool() {
  const spool = state.spool;
  $('spool-where').textContent = spool ? spool.spool : '';
  const table = $('spool');
  const records = spool?.records ?? [];
  table.replaceChildren(
    h(
      'tr',
      {},
      ['id', 'topic', 'tag', 'keys', 'error', 'spooled at', 'attempts', 'body'].map((c) => h('th', {}, c)),
    ),
  );
  if (records.length === 0) table.append(h('tr', {}, h('td', { colspan: 8 }, 'empty')));
  for (const r of records) {
    const error = r.error ? `${r.error.code ?? ''} ${r.error.message ?? ''}`.trim() : '';
    table.append(
      h(
        'tr',
        {},
        [
          r.id,
          r.topic,
          r.tag ?? '',
          (r.keys ?? []).join(', '),
          error,
          r.spooledAt,
          r.redeliveryAttempts ?? 0,
          r.body,
        ].map((v) => h('td', { title: String(v ?? '') }, String(v ?? ''))),
      ),
    );
  }
}

// The stream

function renderBroker() {
  const { embedded, endpoint } = state.broker;
  $('broker').textContent = embedded ? `embedded broker ${endpoint}` : `external broker ${endpoint}`;
  const external = !embedded;
  const say = (id, text) => {
    $(id).hidden = !external;
    $(id).textContent = external ? text : '';
  };
  say(
    'topics-notice',
    `ROCKETMQ_ENDPOINTS points at a broker of your own (${endpoint}): stored messages are read from the embedded broker only, so none are listed here. Each invocation still lists what it sent, with the message ids the broker answered.`,
  );
  say(
    'workflow-notice',
    'Message counts per topic and the RocketMQ triggers need the embedded broker: with ROCKETMQ_ENDPOINTS set, functions with a RocketMQ trigger do not run here, and only sends are counted.',
  );
  say(
    'functions-notice',
    'Functions with a RocketMQ trigger are fed by the embedded broker only; with ROCKETMQ_ENDPOINTS set they run only from their sample events.',
  );
}

let graphQueued = false;
function queueGraph() {
  if (graphQueued) return;
  graphQueued = true;
  requestAnimationFrame(() => {
    graphQueued = false;
    renderGraph();
  });
}

function onSnapshot(snapshot) {
  Object.assign(state, {
    broker: snapshot.broker,
    functions: snapshot.functions,
    topics: snapshot.topics,
    graph: snapshot.graph,
    stats: snapshot.stats,
    spool: snapshot.spool,
    messages: new Map(snapshot.messages.map((m) => [m.messageId, m])),
    invocations: new Map(snapshot.invocations.map((i) => [i.id, i])),
  });
  $('messages').replaceChildren();
  $('invocations').replaceChildren();
  rows.messages.clear();
  rows.invocations.clear();
  renderBroker();
  renderSamples();
  renderTopicOptions();
  for (const message of state.messages.values()) renderMessage(message);
  for (const invocation of state.invocations.values()) renderInvocation(invocation);
  renderGraph();
  renderStats();
  renderSpool();
}

function connect() {
  const source = new EventSource('/_dev/events');
  const on = (name, handler) => source.addEventListener(name, (event) => handler(JSON.parse(event.data)));
  source.addEventListener('open', () => {
    $('connection').textContent = 'live';
    $('connection').className = 'badge live';
  });
  source.addEventListener('error', () => {
    $('connection').textContent = 'reconnecting…';
    $('connection').className = 'badge down';
  });
  on('snapshot', onSnapshot);
  on('message', (message) => {
    state.messages.set(message.messageId, message);
    if (!state.topics.includes(message.topic)) state.topics.push(message.topic);
    renderMessage(message);
    renderTopicOptions();
  });
  on('invocation', (invocation) => {
    state.invocations.set(invocation.id, invocation);
    renderInvocation(invocation);
    // Its sends and consumers show on the messages it touched.
    for (const id of [...invocation.consumed, ...invocation.sent.map((send) => send.messageId)]) {
      const message = id && state.messages.get(id);
      if (message && open.has(`m-${id}`)) renderMessage(message);
    }
  });
  on('graph', ({ graph, topics }) => {
    state.graph = graph;
    state.topics = topics;
    renderTopicOptions();
    queueGraph();
  });
  on('stats', (sample) => {
    state.stats.push(sample);
    if (state.stats.length > 120) state.stats.shift();
    renderStats();
  });
  on('spool', (spool) => {
    state.spool = spool;
    renderSpool();
  });
}

$('filters').addEventListener('input', applyFilters);
$('filters').addEventListener('submit', (event) => event.preventDefault());
connect();
