// Loaded by the browser suite's page (see tests/browser/test_e2e.py): runs one scenario's fetch()
// calls and reports what the page could observe, never more. A rejected fetch() is reported
// with the error's name (the Fetch standard says a CORS failure is a network error, which
// fetch() surfaces as a TypeError).

async function corswareProbe(spec) {
  const result = { outcome: null, status: null, body: null, headers: {}, redirected: null, url: null, error: null, chunks: null };
  try {
    let response = null;
    for (let i = 0; i < (spec.repeat || 1); i++) {
      response = await fetch(spec.url, spec.init || {});
      if (i + 1 < (spec.repeat || 1)) await response.arrayBuffer();
    }
    result.status = response.status;
    result.redirected = response.redirected;
    result.url = response.url;
    for (const name of spec.read_headers || []) result.headers[name] = response.headers.get(name);
    if (spec.stream) {
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let text = "";
      result.chunks = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        result.chunks += 1;
        text += decoder.decode(value, { stream: true });
      }
      result.body = text;
    } else {
      result.body = await response.text();
    }
    result.outcome = "resolved";
  } catch (error) {
    result.outcome = "rejected";
    result.error = error.name + ": " + error.message;
  }
  return result;
}

// The same probe from an opaque origin: a sandboxed iframe (no allow-same-origin) has the
// origin "null", so its fetch() carries `Origin: null`.
function corswareProbeSandboxed(spec) {
  return new Promise((resolve) => {
    const frame = document.createElement("iframe");
    frame.setAttribute("sandbox", "allow-scripts");
    frame.srcdoc =
      "<script>" + corswareProbe.toString() +
      ";window.addEventListener('message', async (event) => {" +
      " event.source.postMessage({ id: event.data.id, origin: self.origin, result: await corswareProbe(event.data) }, '*'); });" +
      "</scr" + "ipt>";
    const onMessage = (event) => {
      if (event.source !== frame.contentWindow || !event.data || event.data.id !== spec.id) return;
      window.removeEventListener("message", onMessage);
      // The frame stays: removing it can drop Chromium's console report of a CORS failure.
      resolve({ ...event.data.result, frame_origin: event.data.origin });
    };
    window.addEventListener("message", onMessage);
    frame.addEventListener("load", () => frame.contentWindow.postMessage(spec, "*"));
    document.body.appendChild(frame);
  });
}

async function corswareRun(specs) {
  const results = await Promise.all(specs.map((spec) => (spec.sandboxed ? corswareProbeSandboxed(spec) : corswareProbe(spec))));
  return Object.fromEntries(specs.map((spec, i) => [spec.id, results[i]]));
}
