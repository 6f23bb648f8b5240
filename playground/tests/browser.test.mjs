// The playground in a real browser (Debian's Chromium, headless, driven by playwright-core):
// the page served as `make playground` serves it, requests pasted as a person would, and what
// it shows compared with the model-router-auto CLI given the same requests, configuration and
// day. Run by `make playground-test` (in `make test`), which sets the paths below.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const need = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run make playground-test`);
  return v;
};
const { chromium } = createRequire(import.meta.url)(need('PLAYWRIGHT_CORE'));

// The catalog's reference day, as the golden tests use it.
const DATE = '2026-11-22';
const golden = JSON.parse(readFileSync(path.join(repo, 'testdata/auto/golden.json'), 'utf8')).cases;
const scratch = mkdtempSync(path.join(tmpdir(), 'playground-test-'));

/** The CLI's lines for `bodies` (one JSON Lines request each) under `config` (JSON text). */
function cli(bodies, config = '') {
  const args = ['--date', DATE];
  if (config) {
    const file = path.join(scratch, 'config.json');
    writeFileSync(file, config);
    args.push('--config', file);
  }
  const run = spawnSync(need('MODEL_ROUTER_AUTO'), args, { input: bodies.map((b) => `${b}\n`).join(''), encoding: 'utf8' });
  return { status: run.status, stderr: run.stderr.trim(), lines: run.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

let server;
let browser;
let page;

before(async () => {
  server = spawn('python3', [path.join(repo, 'scripts/serve_playground.py'), need('PLAYGROUND_DIR')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/http:\/\/127\.0\.0\.1:\d+\//);
      if (m) resolve(m[0]);
    });
    server.on('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
  browser = await chromium.launch({ executablePath: need('CHROMIUM'), headless: true, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  const wasm = page.waitForResponse((r) => r.url().endsWith('.wasm'));
  await page.goto(url);
  assert.equal((await wasm).headers()['content-type'], 'application/wasm');
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
  assert.deepEqual(errors, []);
  await page.fill('#date', DATE);
});

after(async () => {
  await browser?.close();
  server?.kill();
  rmSync(scratch, { recursive: true, force: true });
});

/** Runs `change` on the page and waits until the page has rendered its result: a render after
 * the change and none still waiting (a render already due when the change came, such as the
 * date's, shows the inputs before it: waiting for any new render made the test read the case
 * before, now and then). */
async function rendered(change) {
  const n = Number(await page.getAttribute('body', 'data-renders'));
  await change();
  await page.waitForFunction(
    (k) => Number(document.body.dataset.renders) > k && document.body.dataset.pending !== 'true',
    n,
  );
  return page.getAttribute('body', 'data-status');
}

const paste = (id, text) => rendered(() => page.fill(id, text));

async function shown() {
  const text = (sel) => page.textContent(sel);
  return {
    tier: await text('#auto-tier'),
    score: (await text('#score')).replace('score ', ''),
    reasons: await page.$$eval('#reasons .chip', (els) => els.map((e) => e.textContent)),
    model: await text('#model'),
    provider: (await text('#provider')).replace(/^on /, ''),
  };
}

const expected = (line) => ({ tier: line.tier, score: line.score.toFixed(3), reasons: line.reasons, model: line.model, provider: line.provider });

test('every golden auto request shows the tier, score, reasons and model the CLI gives', async () => {
  const bodies = golden.map((c) => JSON.stringify(c.request));
  const want = cli(bodies);
  assert.equal(want.status, 0, want.stderr);
  assert.equal(want.lines.length, golden.length);
  for (const [i, c] of golden.entries()) {
    assert.equal(await paste('#request', JSON.stringify(c.request, null, 2)), '200', c.name);
    assert.deepEqual(await shown(), expected(want.lines[i]), c.name);
    assert.equal(await page.textContent('#auto-tier'), c.expect_tier, c.name);
  }
});

test('picking an example fills in its request and decides it', async () => {
  const c = golden.find((g) => g.name === 'refactoring with tools and code');
  await rendered(() => page.selectOption('#example', { label: c.name }));
  assert.deepEqual(JSON.parse(await page.inputValue('#request')), c.request);
  assert.deepEqual(await shown(), expected(cli([JSON.stringify(c.request)]).lines[0]));
  // A code conversation ranks by coding; every prefer gets a ranking, the used one marked.
  assert.equal(await page.textContent('#prefer'), 'coding');
  assert.deepEqual(await page.$$eval('#ranked .rank', (els) => els.map((e) => e.dataset.prefer)), ['cheap', 'fast', 'balanced', 'quality', 'coding']);
  assert.equal(await page.getAttribute('#ranked .rank.chosen', 'data-prefer'), 'coding');
  assert.equal(await page.textContent('#ranked .rank.chosen li:first-child .m'), await page.textContent('#model'));
});

test('a refused request shows the status and error the filter answers with', async () => {
  const bad = [
    ['{"model":', '400'],
    ['{"model":"auto"}', '400'],
    ['{"model":"auto","prefer":"cheapest","messages":[{"role":"user","content":"hi"}]}', '400'],
    ['{"model":"llama3.1-8b","messages":[{"role":"user","content":"hi"}]}', '400'],
    ['{"model":"gpt-0","messages":[{"role":"user","content":"hi"}]}', '404'],
  ];
  const want = cli(bad.map(([b]) => b));
  for (const [i, [body, status]] of bad.entries()) {
    assert.equal(await paste('#request', body), status, body);
    assert.equal(await page.textContent('#error-status'), status, body);
    assert.ok(want.lines[i].error, `the CLI refuses ${body} too`);
    assert.deepEqual(JSON.parse(await page.textContent('#error')).error, want.lines[i].error, body);
    assert.equal(await page.isVisible('#routed'), false);
  }
});

test('an edited configuration decides as the CLI does with the same configuration', async () => {
  const config = JSON.stringify({ blocked_providers: ['google-gemini', 'anthropic'], auto: { premium_share: 0.3 }, default_prefer: 'cheap' });
  const bodies = golden.map((c) => JSON.stringify(c.request));
  const want = cli(bodies, config);
  assert.equal(want.status, 0, want.stderr);
  await page.click('#config-box summary');
  await paste('#config', config);
  for (const [i, c] of golden.entries()) {
    await paste('#request', JSON.stringify(c.request));
    assert.deepEqual(await shown(), expected(want.lines[i]), c.name);
    assert.notEqual((await shown()).provider, 'google-gemini');
  }
  // The excluded table says why the blocked providers' models are out.
  const why = await page.$$eval('#excluded tbody tr', (rows) => rows.map((r) => [...r.cells].map((td) => td.textContent)));
  assert.ok(why.some(([, provider, , reason]) => provider === 'anthropic' && reason === 'policy'), JSON.stringify(why.slice(0, 5)));
  // A configuration the filter refuses to load is shown with the message it logs.
  const broken = '{"default_prefer":"cheapest"}';
  assert.equal(await paste('#config', broken), 'config_error');
  const refused = cli(['{}'], broken);
  assert.equal(refused.status, 2);
  assert.equal(`model-router-auto: ${await page.textContent('#config-error')}`, refused.stderr);
  await paste('#config', '{}');
  await page.click('#config-box summary');
});

test('the catalog view lists every model and sorts by any column', async () => {
  await page.click('.tab[data-tab="catalog"]');
  const builtin = JSON.parse(readFileSync(path.join(repo, 'scorer/catalog.json'), 'utf8'));
  const rows = () => page.$$eval('#catalog-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
  assert.equal((await rows()).length, builtin.models.length);
  const column = async (key) => {
    const idx = await page.$$eval('#catalog-table th', (ths, k) => ths.findIndex((th) => th.dataset.key === k), key);
    return (await rows()).map((r) => r[idx]);
  };
  await page.click('#catalog-table th[data-key="price_in"]');
  const up = (await column('price_in')).map(Number);
  assert.deepEqual(up, [...up].sort((a, b) => a - b));
  await page.click('#catalog-table th[data-key="price_in"]');
  const down = (await column('price_in')).map(Number);
  assert.deepEqual(down, [...up].sort((a, b) => b - a));
  await page.fill('#catalog-filter', 'cerebras');
  const providers = await column('provider');
  assert.ok(providers.length > 0 && providers.every((p) => p === 'cerebras'), providers.join());
  await page.fill('#catalog-filter', '');
  await page.click('.tab[data-tab="decision"]');
});

test('a screenshot of a decision for the README', async () => {
  const c = golden.find((g) => g.name === 'image input');
  await rendered(() => page.selectOption('#example', { label: c.name }));
  await page.screenshot({ path: need('SCREENSHOT') });
});
