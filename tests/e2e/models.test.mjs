// End-to-end: the demo's "Try another model" input refuses corrupt and foreign models with a
// visible reason, keeps predicting with the model it had, and accepts a valid model file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { serveDist, recordRequests, probabilities, root, artifacts } from './serve.mjs';

const golden = JSON.parse(readFileSync(`${root}tests/golden/parity.json`, 'utf8'));
const shipped = readFileSync(`${root}models/nextevent.onnx`);
const ctx = serveDist(before, after);

/** Replaces every occurrence of `from` by `to` (same length, so the protobuf stays valid). */
function swap(buf, from, to) {
  assert.equal(from.length, to.length);
  const out = Buffer.from(buf);
  let at = out.indexOf(from);
  assert.ok(at >= 0, `${from} is in the model`);
  for (; at >= 0; at = out.indexOf(from, at + 1)) out.write(to, at, 'latin1');
  return out;
}

// Random bytes from a fixed LCG, so the case is the same on every run.
const random = Buffer.alloc(4096);
for (let i = 0, x = 12345; i < random.length; i++) { x = (x * 1103515245 + 12345) >>> 0; random[i] = x >>> 24; }

const cases = [
  ['empty.onnx', Buffer.alloc(0), /model file is empty/],
  ['truncated.onnx', shipped.subarray(0, shipped.length >> 1), /not a readable ONNX protobuf/],
  ['random.onnx', random, /not loaded: /],
  ['no-metadata.onnx', swap(shipped, 'nextevent.spec', 'nextevent.spex'), /no `nextevent.spec` metadata/],
  ['other-spec.onnx', swap(shipped, '"window":16', '"window":32'), /window: model has 32, this build has 16/],
  ['unsupported-op.onnx', swap(shipped, 'Softmax', 'Softmix'), /Softmix/],
];

/** Loads the 'Buying' example and checks the page still gives the native predictor's output. */
async function stillPredictsLikeNative(page, label) {
  await page.locator('#clear').click();
  await page.locator('.hint').waitFor();
  await page.getByRole('button', { name: 'Buying' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#events tbody tr[data-row]').length === 4);
  const got = Object.values(await probabilities(page));
  const want = golden.cases.find((c) => c.name === 'Buying').probabilities;
  got.forEach((p, i) => assert.ok(Math.abs(p - want[i]) <= 1e-5, `${label}, class ${i}: page ${p} vs native ${want[i]}`));
}

test('corrupt and foreign model files are refused with their reason; the page keeps working', async () => {
  const page = await ctx.browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests = recordRequests(page);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(ctx.server.url);
  await probabilities(page);
  const modelName = async () => (await page.locator('#model-name').innerText()).replace(/, loaded in .*/, '');
  const shippedName = await modelName();
  for (const [name, buffer, reason] of cases) {
    await page.locator('#model-file').setInputFiles({ name, mimeType: 'application/octet-stream', buffer });
    const status = page.locator('#model-status[data-ok="false"]');
    await status.waitFor();
    const text = await status.innerText();
    assert.match(text, new RegExp(`^${name.replace('.', '\\.')} was not loaded: `), text);
    assert.match(text, reason, `${name}: ${text}`);
    assert.match(text, /Still using nextevent CNN\+BiGRU/, text);
    assert.equal(await status.getAttribute('role'), 'alert');
    if (name === 'other-spec.onnx') await page.locator('section.model').screenshot({ path: `${artifacts}/model-refused.png` });
    assert.equal(await modelName(), shippedName, `${name}: model unchanged`);
    await stillPredictsLikeNative(page, name);
    // Clear the status so the next case's wait sees a fresh one.
    await page.locator('#model-reset').click();
    await page.locator('#model-status[data-ok="true"]').waitFor();
  }
  // A valid model file loads (here the shipped model from disk) and predictions use it.
  await page.locator('#model-file').setInputFiles({ name: 'nextevent.onnx', mimeType: 'application/octet-stream', buffer: shipped });
  // The status of the reset above is cleared when the file is picked; wait for this file's.
  const ok = page.locator('#model-status[data-ok="true"]', { hasText: 'nextevent.onnx' });
  await ok.waitFor();
  assert.match(await ok.innerText(), /^Loaded nextevent\.onnx: nextevent CNN\+BiGRU .*Predictions now use it\.$/);
  await stillPredictsLikeNative(page, 'reloaded model');
  assert.deepEqual(errors, []);
  assert.deepEqual(requests.filter((u) => !u.startsWith(ctx.server.url) && !u.startsWith('data:')), []);
  await page.close();
});

// The shared bad-model table (tests/common/mod.rs, written to target/bad-models/ by
// `cargo test --test predictor`): the same files native and wasm-bindgen-test refuse, picked
// here in the demo — among them a well-formed graph that made tract panic and abort the page.
test('every case of the shared bad-model table is refused in the demo, which keeps predicting', async () => {
  const dir = `${root}target/bad-models`;
  const table = JSON.parse(readFileSync(`${dir}/index.json`, 'utf8'));
  assert.ok(table.length >= 25, `only ${table.length} cases: run \`cargo test --release --test predictor\` first`);
  const page = await ctx.browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(ctx.server.url);
  await probabilities(page);
  for (const { name, file, want } of table) {
    await page.locator('#model-file').setInputFiles({ name: file, mimeType: 'application/octet-stream', buffer: readFileSync(`${dir}/${file}`) });
    const status = page.locator('#model-status[data-ok="false"]');
    await status.waitFor();
    const text = await status.innerText();
    assert.ok(text.includes(want), `${name}: ${text} (want ${want})`);
    await stillPredictsLikeNative(page, name);
    await page.locator('#model-reset').click();
    await page.locator('#model-status[data-ok="true"]').waitFor();
  }
  assert.deepEqual(errors, []);
  await page.close();
});
