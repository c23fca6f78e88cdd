// genlab live view: the component that shows a training page's figures while a model trains.
//
// Input (the component's `data`, built by dashboard/live_canvas.py):
//   {figures: [{key, spec, rev}], columns, font, dark, instructor, marker_min, line_min, ...}   figures in
//   the data, or {feed: {url, poll_ms, generation}, ...} figures fetched from a live feed
//   (dashboard/live_feed.py), with a status line ({kind, text, value, error}) above them.
// Each figure is drawn by RENDERER ({tag, draw(element, spec, options)}), defined in the renderer's
// file that dashboard/live_canvas.py puts before this one (live_canvas.js or live_plotly.js). Each
// figure's element (class genlab-live-figure) carries data-key, data-title, data-points (points of
// the first trace) and data-last-x (its last x): tests and the load test read them.

// plotly.py's typed arrays ({dtype, bdata, shape}) -> typed arrays (rows of them for a 2-d shape)
const TYPED = {
  f4: Float32Array, f8: Float64Array, i1: Int8Array, u1: Uint8Array, i2: Int16Array,
  u2: Uint16Array, i4: Int32Array, u4: Uint32Array,
};

function decode(v) {
  if (v == null) return [];
  if (v.bdata !== undefined) {
    const bin = atob(v.bdata);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const flat = new (TYPED[v.dtype] || Float64Array)(bytes.buffer);
    if (v.shape && String(v.shape).includes(",")) {
      const [rows, cols] = String(v.shape).split(",").map(Number);
      const out = [];
      for (let r = 0; r < rows; r++) out.push(flat.subarray(r * cols, (r + 1) * cols));
      return out;
    }
    return flat;
  }
  return v;
}

const num = (v) => (v === null || v === undefined ? NaN : +v);

// ---------------------------------------------------------------------------- the status line
// (live feeds only: the step counter and progress bar, a queue notice, a refused live change)

function renderStatus(root, status, height) {
  // the text and the bar in a box of a fixed height (the page's, in px: the paused page's status
  // line has the same), so that a longer text never moves the plane below it
  let box = root.__status;
  if (!status) {
    if (box) box.remove();
    root.__status = null;
    return;
  }
  if (!box || !box.isConnected) {
    box = document.createElement("div");
    box.className = "genlab-live-status";
    box.innerHTML = '<div class="genlab-live-status-main"><div class="genlab-live-status-text"></div>' +
      '<div class="genlab-live-bar" role="progressbar" aria-valuemin="0" aria-valuemax="100"><div></div></div></div>' +
      '<div class="genlab-live-error" role="alert"></div>';
    root.parentElement.insertBefore(box, root);
    root.__status = box;
  }
  box.dataset.kind = status.kind || "progress";
  box.firstChild.style.height = height ? `${height}px` : "";
  box.querySelector(".genlab-live-status-text").textContent = status.text || "";
  const bar = box.querySelector(".genlab-live-bar");
  const value = Math.max(0, Math.min(1, num(status.value) || 0));
  bar.hidden = box.dataset.kind !== "progress";
  bar.setAttribute("aria-valuenow", String(Math.round(value * 100)));
  bar.firstChild.style.width = `${(value * 100).toFixed(2)}%`;
  const error = box.querySelector(".genlab-live-error");
  error.textContent = status.error || "";
  error.hidden = !status.error;
}

// ---------------------------------------------------------------------------- the figures

function describe(element, spec) {
  // what tests read: the figure's title and its first trace's length / last x
  const layout = spec.layout || {};
  const title = layout.title && (layout.title.text || (typeof layout.title === "string" ? layout.title : ""));
  const first = (spec.data || []).find((t) => t.type !== "heatmap");
  const fx = first ? decode(first.x) : [];
  element.dataset.title = title ? String(title) : "";
  element.dataset.points = String(fx.length);
  element.dataset.lastX = fx.length ? String(num(fx[fx.length - 1])) : "";
}

function render(root, payload) {
  // draw payload.figures ([{key, spec, rev?}]) into root's grid; a figure whose rev did not change
  // since it was drawn (same width, same options) is left as it is
  const options = root.__options;
  if ("status" in payload) renderStatus(root, payload.status, root.__statusHeight);
  const figures = payload.figures || [];
  const keep = new Set(figures.map((f) => f.key));
  for (const cell of [...root.children]) if (!keep.has(cell.dataset.key)) cell.remove();
  let drawn = 0;
  figures.forEach((figure, index) => {
    let cell = root.querySelector(`:scope > [data-key="${figure.key}"]`);
    if (!cell) {
      cell = document.createElement("div");
      cell.className = "genlab-live-cell";
      cell.dataset.key = figure.key;
      const element = document.createElement(RENDERER.tag);
      element.className = "genlab-live-figure";
      element.dataset.key = figure.key;
      element.setAttribute("role", "img");
      element.setAttribute("aria-label", `${figure.key}: live chart`);
      cell.appendChild(element);
    }
    if (root.children[index] !== cell) root.insertBefore(cell, root.children[index] || null);
    const same = figure.rev !== undefined && cell.__rev === figure.rev && cell.__drawnWith === options &&
      cell.__drawnWidth === cell.clientWidth;
    cell.__spec = figure.spec;
    if (same) return;
    RENDERER.draw(cell.firstChild, figure.spec, options);
    describe(cell.firstChild, figure.spec);
    cell.__rev = figure.rev;
    cell.__drawnWith = options;
    cell.__drawnWidth = cell.clientWidth;
    drawn++;
  });
  root.__width = root.clientWidth;
  root.dataset.updates = String(+(root.dataset.updates || 0) + 1);
  root.dataset.drawn = String(+(root.dataset.drawn || 0) + drawn);
}

// ---------------------------------------------------------------------------- live feeds
// With a feed ({url, poll_ms, generation}) the component fetches its figures itself
// (dashboard/live_feed.py): GET url?since=<version>&wait=1.5, which the server answers as soon as
// the job published something newer (204 when the wait ends with nothing new); at most one request per
// poll_ms (the server's answers may change the period). No Streamlit rerun per refresh. When the feed says the job is no
// longer running it sets the trigger "ended": the page reruns and shows interactive charts.

const ACTIVE = new Set(["running", "queued"]);
const HOLD_S = 1.5;     // how long the server may hold a request while nothing changes

function stopFeed(root) {
  const feed = root.__feed;
  if (!feed) return;
  feed.stopped = true;
  clearTimeout(feed.timer);
  root.__feed = null;
}

function startFeed(root, spec, trigger) {
  let feed = root.__feed;
  if (!feed || feed.url !== spec.url) {
    stopFeed(root);
    feed = root.__feed = { url: spec.url, version: null, timer: null, busy: false, stopped: false, ended: false };
  }
  feed.poll = num(spec.poll_ms) || 500;
  feed.trigger = trigger;
  if (feed.generation !== spec.generation) {   // new options (a rerun): fetch now, not at the next tick
    feed.generation = spec.generation;
    feed.version = null;
    if (!feed.busy) { clearTimeout(feed.timer); poll(root, feed); }
  } else if (!feed.busy && feed.timer === null) {
    poll(root, feed);
  }
}

async function poll(root, feed) {
  feed.timer = null;
  if (feed.stopped) return;
  if (document.visibilityState === "hidden") {   // a background tab costs nothing until it is shown
    feed.timer = setTimeout(() => poll(root, feed), 1000);
    return;
  }
  feed.busy = true;
  const began = performance.now();
  try {
    // long polling: the server holds the request until the job published something newer
    const query = feed.version === null ? "" : `?since=${feed.version}&wait=${HOLD_S}`;
    const response = await fetch(feed.url + query, { cache: "no-store", credentials: "same-origin" });
    if (feed.stopped) return;
    if (response.status === 404) { stopFeed(root); return; }   // the session ended (server restarted)
    if (response.status === 200) {
      const payload = await response.json();
      if (feed.stopped) return;
      feed.version = payload.version;
      if (payload.poll_ms) feed.poll = num(payload.poll_ms);
      render(root, payload);
      root.dataset.feedVersion = String(payload.version);
      if (payload.state && !ACTIVE.has(payload.state) && !feed.ended && feed.trigger) {
        feed.ended = true;
        feed.trigger("ended", payload.state);
      }
    }
  } catch (err) {
    // a dropped request (server busy or restarting): try again at the next tick
  } finally {
    feed.busy = false;
    if (!feed.stopped) {
      // at most one request per poll period (the server's poll_ms: longer when many jobs share it)
      const wait = Math.max(feed.poll - (performance.now() - began), 20);
      feed.timer = setTimeout(() => poll(root, feed), wait);
    }
  }
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const payload = data || {};
  let root = parentElement.querySelector(":scope > .genlab-live");
  if (!root) {
    root = document.createElement("div");
    root.className = "genlab-live";
    parentElement.appendChild(root);
  }
  root.style.gridTemplateColumns = `repeat(${Math.max(1, payload.columns || 1)}, minmax(0, 1fr))`;
  root.__statusHeight = num(payload.status_height) || 0;
  const options = {
    dark: !!payload.dark, font: payload.font || 14, instructor: !!payload.instructor,
    markerMin: num(payload.marker_min) || 0, lineMin: num(payload.line_min) || 0,
    template: payload.template, plotlyUrl: payload.plotly_url,      // the Plotly renderer's
  };
  const old = root.__options;
  root.__options = old && old.dark === options.dark && old.font === options.font &&
    old.instructor === options.instructor && old.markerMin === options.markerMin &&
    old.lineMin === options.lineMin ? old : options;
  if (payload.figures) render(root, payload);       // no feed: the data carries the figures
  if (payload.feed) startFeed(root, payload.feed, setTriggerValue);
  else stopFeed(root);
  // redraw when the column width changes (sidebar toggled, window resized)
  if (!root.__observer) {
    root.__observer = new ResizeObserver(() => {
      if (root.clientWidth === root.__width) return;
      root.__width = root.clientWidth;
      for (const cell of root.children) {
        if (!cell.__spec) continue;
        RENDERER.draw(cell.firstChild, cell.__spec, root.__options);
        cell.__drawnWidth = cell.clientWidth;
      }
    });
    root.__observer.observe(root);
  }
  return () => {
    if (root.__observer) { root.__observer.disconnect(); root.__observer = null; }
    stopFeed(root);
  };
}
