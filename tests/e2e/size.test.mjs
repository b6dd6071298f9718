// Page weight budget: the gzip size of everything a first visit downloads (demo page; embed
// package) must stay within 5 % of the recorded budget in tests/size-budget.json. Sizes are
// deterministic for a given toolchain, unlike times, so this is a test, not a benchmark.
// After an intended change, update the budget with: NEXTEVENT_UPDATE_BUDGET=1 node --test tests/e2e/size.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync } from 'node:zlib';
import { root } from './serve.mjs';

const dist = `${root}dist`;
const budgetFile = `${root}tests/size-budget.json`;

function weigh(files) {
  const out = { files: {}, raw: 0, gzip: 0, brotli: 0 };
  for (const f of files) {
    const b = readFileSync(`${dist}/${f}`);
    const g = gzipSync(b, { level: 9 }).length;
    const br = brotliCompressSync(b).length;
    out.files[f] = { raw: b.length, gzip: g, brotli: br };
    out.raw += b.length; out.gzip += g; out.brotli += br;
  }
  return out;
}

test('first-visit download stays within 5 % of the recorded gzip budget', () => {
  const top = readdirSync(dist).filter((f) => /\.(html|js|wasm|css|svg)$/.test(f));
  const demo = weigh(top);
  const embed = weigh(['embed/nextevent.js', 'embed/nextevent_bg.wasm', 'embed/next-event-predictor.js']);
  console.log(`demo: ${demo.raw} B raw, ${demo.gzip} B gzip, ${demo.brotli} B brotli`);
  console.log(`embed: ${embed.raw} B raw, ${embed.gzip} B gzip, ${embed.brotli} B brotli`);
  if (process.env.NEXTEVENT_UPDATE_BUDGET) {
    writeFileSync(budgetFile, JSON.stringify({ note: 'gzip -9 bytes of a first visit; tests/e2e/size.test.mjs fails above +5 %', demo_gzip: demo.gzip, embed_gzip: embed.gzip }, null, 2) + '\n');
  }
  const budget = JSON.parse(readFileSync(budgetFile, 'utf8'));
  for (const [name, got, want] of [['demo', demo.gzip, budget.demo_gzip], ['embed', embed.gzip, budget.embed_gzip]]) {
    assert.ok(got <= want * 1.05, `${name}: ${got} B gzip is more than 5 % above the budget of ${want} B`);
  }
});
