// The module worker <next-event-predictor> runs the model in, off the page's main thread: it
// loads nextevent.js + nextevent_bg.wasm itself (same origin, no blob: URL, so it runs under
// `worker-src 'self'`) and serves the element's requests (see nextevent-engine.js).
import { createHandler, listen } from './nextevent-engine.js';

listen(self, createHandler());
