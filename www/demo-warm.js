// The demo's warm-up worker (src/browser/page/warm.rs): the page posts its own
// WebAssembly.Module and the URL of its JS glue; instantiating it here runs the demo's `main`,
// which, finding no window, loads the model and predicts once. V8 compiles that code in this
// worker and the page, which shares the module, finds it compiled. One reply, then the page
// terminates the worker.
self.onmessage = async ({ data }) => {
  const t0 = performance.now();
  try {
    const glue = await import(data.glue);
    await glue.default({ module_or_path: data.module });
    self.postMessage({ warmed_ms: performance.now() - t0 });
  } catch (err) {
    self.postMessage({ error: String(err?.message ?? err) });
  }
};
