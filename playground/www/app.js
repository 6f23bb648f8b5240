// The playground page: reads the inputs, asks the scorer (WebAssembly, built from the same
// Rust the filter runs) and renders its JSON. Nothing here decides.
import init, { decide, catalog, examples, builtin_catalog } from './pkg/model_router_playground.js';

const $ = (id) => document.getElementById(id);
const TIER_ORDER = { economy: 0, standard: 1, premium: 2, embedding: 3 };

/** An element with attributes and children (strings become text, never HTML). */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

const usd = (v) => (v === 0 ? '$0' : v < 0.0001 ? `$${v.toExponential(2)}` : `$${v.toFixed(v < 0.01 ? 5 : 4)}`);
const num = (v) => (v === null || v === undefined ? '' : Number(v).toLocaleString('en-US'));

function inputs() {
  return [$('request').value, $('config').value, $('date').value, $('client').value.trim()];
}

function show(id, on) {
  $(id).hidden = !on;
}

let renders = 0;
// The decision on screen, which the excluded table filters.
let last = null;

function renderDecision() {
  const d = JSON.parse(decide(...inputs()));
  // For the browser test: which render is on screen, and what it ended in.
  document.body.dataset.renders = String(++renders);
  document.body.dataset.status = d.config_error ? 'config_error' : String(d.status);
  show('config-error', !!d.config_error);
  $('config-error').textContent = d.config_error || '';
  $('config-state').textContent = d.config_error ? '(rejected)' : '';
  show('refused', !d.config_error && d.status !== 200);
  show('routed', d.status === 200);
  show('sent', d.status === 200);
  if (d.config_error) {
    show('excluded-box', false);
    $('needs').textContent = '';
    return;
  }
  if (d.status !== 200) {
    $('error-status').textContent = String(d.status);
    $('error').textContent = JSON.stringify(JSON.parse(d.body), null, 2);
  } else {
    renderRoute(d);
  }
  last = d;
  $('needs').textContent = d.needs ? `the guards saw: ${needsText(d.needs)}` : '';
  renderExcluded();
}

function renderRoute(d) {
  $('model').textContent = d.model;
  $('provider').textContent = `on ${d.provider}`;
  $('tier').textContent = d.tier;
  $('selection').textContent = `selection: ${d.selection}${d.escalated ? `, escalated (${d.escalated})` : ''}`;
  $('prefer').textContent = d.prefer;
  $('estimate').textContent = `expected ${usd(d.estimate_usd)} for this request`;
  show('auto-card', !!d.auto);
  if (d.auto) {
    $('auto-tier').textContent = d.auto.tier;
    $('score').textContent = `score ${d.auto.score.toFixed(3)}`;
    $('reasons').replaceChildren(...d.auto.reasons.map((r) => el('span', { class: 'chip' }, r)));
  }
  const notes = [];
  if (d.auto && d.auto.sticky) notes.push('kept above the scored tier by stickiness');
  if (d.fallbacks.length) notes.push(`failover order: ${d.fallbacks.map((f) => `${f.model} on ${f.provider}`).join(' → ')}`);
  $('notes').textContent = notes.join('; ');

  $('ranked').replaceChildren(
    ...d.ranked.map((r) => {
      const chosen = r.prefer === d.prefer;
      return el('div', { class: `rank${chosen ? ' chosen' : ''}`, 'data-prefer': r.prefer },
        el('h3', {}, r.prefer, chosen ? el('span', { class: 'pill' }, 'used') : null),
        el('ol', {}, r.candidates.map((c) => el('li', {},
          el('div', { class: 'm' }, c.model), el('div', { class: 'p' }, c.provider, ' · ', el('span', { class: 'usd' }, usd(c.usd)))))));
    }),
  );
  const u = d.upstream;
  const rows = [['api', `${u.api}${u.translated ? ' (translated from the OpenAI request)' : ' (the client\'s bytes, spliced)'}`], ...u.headers];
  $('sent-headers').replaceChildren(...rows.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, v))));
  let body = u.body;
  try {
    body = JSON.stringify(JSON.parse(u.body), null, 2);
  } catch {
    // Not JSON: show the bytes as they are.
  }
  $('sent-body').textContent = body;
}

/** What the request needs from a model, in words. */
function needsText(n) {
  const out = n.output_requested ?? `${n.output_default} (default, capped at each model's limit)`;
  const caps = ['tools', 'images', 'json_schema', 'reasoning', 'audio_output'].filter((k) => n[k]);
  const price = n.max_price ? `; max_price ${JSON.stringify(n.max_price)}` : '';
  return `about ${num(n.input_tokens)} input tokens (a conservative estimate) plus ${typeof out === 'number' ? num(out) : out} output; ` +
    `${caps.length ? `needs ${caps.join(', ')}` : 'no special capability'}${price}`;
}

/** Whether an excluded deployment is one the decision looked at: the chosen tier (and the
 * tiers below it when the route escalated, above it when `auto` lowered it), the pinned
 * model's deployments, or, for a refusal, all of them. */
function considered(d, x) {
  if (d.status !== 200) return true;
  if (d.selection === 'pinned') return x.model === d.model;
  if (d.escalated === 'lowered') return x.tier === d.tier || TIER_ORDER[x.tier] > TIER_ORDER[d.tier];
  return x.tier === d.tier || (!!d.escalated && TIER_ORDER[x.tier] < TIER_ORDER[d.tier]);
}

function renderExcluded() {
  const rows = (last && last.excluded) || [];
  const all = $('excluded-all').checked;
  const shown = rows.filter((x) => all || considered(last, x));
  show('excluded-box', rows.length > 0);
  $('excluded-count').textContent = shown.length === rows.length ? String(rows.length) : `${shown.length} of ${rows.length}`;
  const sorted = shown.sort((a, b) => TIER_ORDER[a.tier] - TIER_ORDER[b.tier] || a.reason.localeCompare(b.reason) || a.model.localeCompare(b.model));
  const none = el('tr', {}, el('td', { colspan: '5', class: 'sub' },
    `nothing excluded where the decision looked; ${rows.length} elsewhere (tick every tier)`));
  $('excluded').tBodies[0].replaceChildren(...(sorted.length ? sorted.map((x) => el('tr', {},
    el('td', {}, x.model), el('td', {}, x.provider), el('td', {}, x.tier), el('td', { class: `why ${x.reason}` }, x.reason), el('td', {}, x.detail))) : [none]));
}

// The catalog view: sortable by any column, filtered by a substring of any cell.
const table = { rows: [], key: 'tier', dir: 1 };

function renderCatalog() {
  const c = JSON.parse(catalog($('config').value, $('date').value));
  table.rows = c.models || [];
  if (c.config_error) $('catalog-count').textContent = c.config_error;
  drawCatalog();
}

function cell(m, key) {
  const v = m[key];
  if (key === 'capabilities') return v.join(' ');
  if (key === 'retires') return v ? `${v}${m.retired ? ' (retired)' : ''}` : '';
  if (key === 'api' && !m.routable) return `${v} (not routed)`;
  return v === null || v === undefined ? '' : v;
}

function compare(a, b, key) {
  const x = a[key];
  const y = b[key];
  if (key === 'tier') return TIER_ORDER[x] - TIER_ORDER[y] || a.price_out - b.price_out || a.id.localeCompare(b.id);
  if (typeof x === 'number' || typeof y === 'number') return (x ?? -1) - (y ?? -1);
  return String(cell(a, key)).localeCompare(String(cell(b, key)));
}

function drawCatalog() {
  const q = $('catalog-filter').value.trim().toLowerCase();
  const keys = [...document.querySelectorAll('#catalog-table th')].map((th) => th.dataset.key);
  const shown = table.rows
    .filter((m) => !q || keys.some((k) => String(cell(m, k)).toLowerCase().includes(q)))
    .sort((a, b) => table.dir * compare(a, b, table.key));
  $('catalog-count').textContent = `${shown.length} of ${table.rows.length} deployments`;
  for (const th of document.querySelectorAll('#catalog-table th')) {
    th.classList.toggle('asc', th.dataset.key === table.key && table.dir > 0);
    th.classList.toggle('desc', th.dataset.key === table.key && table.dir < 0);
  }
  $('catalog-table').tBodies[0].replaceChildren(...shown.map((m) => el('tr', { class: m.retired || !m.routable ? 'dim' : '' },
    keys.map((k) => {
      const v = cell(m, k);
      const numeric = typeof m[k] === 'number';
      // Sources are long notes: two lines shown, the whole note on hover.
      if (k === 'source') return el('td', {}, el('div', { class: 'clamp', title: v }, v));
      return el('td', { class: numeric ? 'num' : '' }, numeric && k !== 'price_in' && k !== 'price_out' ? num(v) : v);
    }))));
}

let pending = 0;
function refresh() {
  clearTimeout(pending);
  // For the browser test: an edit is waiting for its render (a render already on its way
  // when the edit came shows the inputs before it).
  document.body.dataset.pending = 'true';
  pending = setTimeout(() => {
    renderDecision();
    if (!$('catalog').hidden) renderCatalog();
    document.body.dataset.pending = 'false';
  }, 120);
}

async function main() {
  await init();
  $('date').value = new Date().toISOString().slice(0, 10);
  const all = JSON.parse(examples());
  const groups = { auto: 'auto: testdata/auto/golden.json', routing: 'routing: testdata/routing/builtin_catalog.json', refused: 'refused by the router' };
  for (const [g, label] of Object.entries(groups)) {
    const og = el('optgroup', { label });
    all.forEach((e, i) => e.group === g && og.append(el('option', { value: String(i) }, e.name)));
    $('example').append(og);
  }
  $('example').addEventListener('change', () => {
    const e = all[Number($('example').value)];
    if (e) $('request').value = e.request;
    refresh();
  });
  $('request').value = all[0].request;
  $('example').value = '0';
  for (const id of ['request', 'config', 'date', 'client']) $(id).addEventListener('input', refresh);
  $('with-catalog').addEventListener('click', () => {
    let cfg = {};
    try {
      cfg = JSON.parse($('config').value || '{}');
    } catch {
      // Replace a broken configuration with a fresh one.
    }
    cfg.catalog = JSON.parse(builtin_catalog());
    $('config').value = JSON.stringify(cfg, null, 2);
    refresh();
  });
  $('reset-config').addEventListener('click', () => {
    $('config').value = '{}';
    refresh();
  });
  for (const b of document.querySelectorAll('.tab')) {
    b.addEventListener('click', () => {
      for (const o of document.querySelectorAll('.tab')) o.classList.toggle('active', o === b);
      show('decision', b.dataset.tab === 'decision');
      show('inputs', b.dataset.tab === 'decision');
      show('catalog', b.dataset.tab === 'catalog');
      if (b.dataset.tab === 'catalog') renderCatalog();
    });
  }
  for (const th of document.querySelectorAll('#catalog-table th')) {
    th.addEventListener('click', () => {
      table.dir = table.key === th.dataset.key ? -table.dir : 1;
      table.key = th.dataset.key;
      drawCatalog();
    });
  }
  $('catalog-filter').addEventListener('input', drawCatalog);
  $('excluded-all').addEventListener('change', renderExcluded);
  renderDecision();
  $('loading').remove();
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  $('loading').textContent = `the scorer failed to load: ${e}`;
});
