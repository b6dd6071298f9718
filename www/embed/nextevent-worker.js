// The module worker <next-event-predictor> runs the model in, off the page's main thread: it
// loads nextevent.js (same origin, no blob: URL, so it runs under `worker-src 'self'`),
// instantiates the WebAssembly.Module the element compiled (or loads nextevent_bg.wasm itself
// when none comes) and serves the element's requests (see nextevent-engine.js).
import { createHandler, listen } from './nextevent-engine.js';

listen(self, createHandler());
