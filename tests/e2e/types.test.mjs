// The embed package's TypeScript types, as a shop developer's project sees them: a sample
// consumer of the API and the element, resolved through the package's `exports` map, is
// type-checked by `tsc --strict` (TypeScript from npm) under `lib: es2022, dom` and
// `esnext, dom`; a wrong `event_type` and the removed synchronous `session` are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './serve.mjs';

const CONSUMER = `import init, { Predictor, Session, modelInfo, type Outlook, type ShopEvent, type ModelInfo } from 'nextevent';
import { NextEventPredictor, productIdOf, ready, MAX_RESTARTS, MAX_MODEL_FETCH_BYTES, type VisitState } from 'nextevent/element';

await init();
const events: ShopEvent[] = [{ event_type: 'view', event_time: Date.now(), product_id: 5802432, price: 4.05, brand: 'runail' }];
const predictor = new Predictor({ threshold: 0.1 });
const outlook: Outlook = predictor.predict(events, { influence: true });
const p: number = outlook.probabilities.purchase + (outlook.conversion ?? 0);
const bytes = new Uint8Array(await (await fetch('/models/shop.onnx')).arrayBuffer());
const own = new Session({ model: bytes, target: null });
const next: Outlook = own.observe({ event_type: 'cart', event_time: new Date(), product_id: '5802432', price: 4.05 });
const info: ModelInfo = own.info;
const embedded: ModelInfo = modelInfo();
const restored = Session.restore(own.snapshot(), { model: bytes.buffer });
await ready();

const el = document.querySelector('next-event-predictor');
if (el) {
  const proto: NextEventPredictor = el;
  const result: Outlook | null = await el.observe({ event_type: 'remove_from_cart', event_time: '2020-01-14T10:00:00Z', product_id: productIdOf('SKU_1'), price: 1 });
  const state: VisitState | null = await el.sessionState();
  const observed: number | undefined = state?.observed;
  const engine: 'worker' | 'main-thread' | null = el.stats.engine;
  const restarts: number = el.stats.restarts + MAX_RESTARTS + MAX_MODEL_FETCH_BYTES;
  const loading: 'loading' | 'ready' | 'stopped' = el.readyState;
  const item: string | undefined = el.history[0]?.item_id;
  console.log(proto, result, observed, engine, restarts, loading, item);
}
addEventListener('nextevent:ready', (e) => { const where: 'worker' | 'main-thread' = e.detail.engine; console.log(where, e.detail.model); });
addEventListener('nextevent:churn-risk', (e) => console.log(e.detail.favouriteBrand?.toUpperCase(), e.detail.stage));
addEventListener('nextevent:error', (e) => { const s: string = e.detail.source; console.log(s, e.detail.message); });
console.log(p, next, info, embedded, restored);
`;

const REFUSED = `import { Predictor } from 'nextevent';
const el = document.querySelector('next-event-predictor')!;
// @ts-expect-error: not an event type
new Predictor({}).predict([{ event_type: 'teleport', event_time: 0, product_id: 1, price: 1 }], {});
// @ts-expect-error: observe() resolves to a Promise now, not an Outlook
const sync: import('nextevent').Outlook = el.observe({ event_type: 'view', event_time: 0, product_id: 1, price: 1 });
// @ts-expect-error: the synchronous session property is gone (sessionState() replaces it)
el.session.observe({ event_type: 'view', event_time: 0, product_id: 1, price: 1 });
// @ts-expect-error: a model is bytes, not a URL (the element's model attribute takes the URL)
new Predictor({ model: '/models/shop.onnx' });
console.log(sync);
`;

function project(lib) {
  const dir = mkdtempSync(join(tmpdir(), `nextevent-types-${lib[0]}-`));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(`${root}dist/embed`, join(dir, 'node_modules', 'nextevent'));
  writeFileSync(join(dir, 'consumer.ts'), CONSUMER);
  writeFileSync(join(dir, 'refused.ts'), REFUSED);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'es2022', moduleResolution: 'bundler', lib, skipLibCheck: false, noUnusedLocals: false },
    files: ['consumer.ts', 'refused.ts'],
  }, null, 2));
  return dir;
}

for (const lib of [['es2022', 'dom'], ['esnext', 'dom']]) {
  test(`types: a consumer of the package and the element type-checks with tsc --strict under lib ${lib.join(', ')}`, () => {
    const dir = project(lib);
    let out = '';
    try {
      out = execFileSync(`${root}node_modules/.bin/tsc`, ['-p', dir], { encoding: 'utf8' });
    } catch (e) {
      assert.fail(`tsc reported errors:\n${e.stdout}${e.stderr}`);
    }
    assert.equal(out.trim(), '');
  });
}
