// genlab live view, Plotly renderer: each figure drawn by plotly.js itself (Plotly.react), the library
// that draws the paused page's figures, loaded once from this server (dashboard/live_feed.py serves the
// plotly package's plotly.min.js: no CDN). Line and marker traces become scattergl (WebGL); the plot is
// static (no hover, zoom or mode bar while it changes several times a second). The component around
// it is dashboard/live_view.js.

let plotlyLoaded = null;     // the promise of window.Plotly

function loadPlotly(url) {
  if (!plotlyLoaded) {
    plotlyLoaded = window.Plotly ? Promise.resolve(window.Plotly) : new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => { plotlyLoaded = null; reject(new Error(`plotly.js did not load from ${url}`)); };
      document.head.appendChild(script);
    });
  }
  return plotlyLoaded;
}

const atLeast = (value, least) => Math.max(num(value) || 0, least);

function styledFigure(spec, options, width) {
  // dashboard.common.style_figure, here: the theme's template and font size, the dark theme's
  // backgrounds and, in instructor mode, projector sizes
  const font = options.font;
  const layout = Object.assign({}, spec.layout, {
    template: options.template, width, font: { size: font }, hoverlabel: { font: { size: font } },
  });
  if (options.dark) Object.assign(layout, { paper_bgcolor: "#0f1117", plot_bgcolor: "#161a23" });
  const data = (spec.data || []).map((t) => ({ ...t, type: !t.type || t.type === "scatter" ? "scattergl" : t.type }));
  if (!options.instructor) return { data, layout };
  const m = layout.margin || {};
  const titled = !!(layout.title && layout.title.text);
  layout.margin = { l: atLeast(m.l, 70), r: atLeast(m.r, 30), t: atLeast(m.t, titled ? 80 : 40), b: atLeast(m.b, 70) };
  layout.title = { ...layout.title, font: { size: font + 4 } };
  layout.legend = { ...layout.legend, font: { size: font } };
  layout.height = layout.height || 560;
  for (const name of ["xaxis", "yaxis", "yaxis2"]) {
    const axis = layout[name];
    if (axis) layout[name] = { ...axis, title: { ...axis.title, font: { size: font } }, tickfont: { size: font - 2 } };
  }
  layout.annotations = (layout.annotations || []).map((a) => ({ ...a, font: { ...a.font, size: atLeast((a.font || {}).size, font) } }));
  for (const t of data) {
    if (t.type !== "scattergl") continue;
    if (!Array.isArray(t.marker && t.marker.size)) t.marker = { ...t.marker, size: atLeast((t.marker || {}).size, options.markerMin) };
    t.line = { ...t.line, width: atLeast((t.line || {}).width, options.lineMin) };
  }
  return { data, layout };
}

const CONFIG = { staticPlot: true, displayModeBar: false };

function drawPlotly(div, spec, options) {
  const figure = styledFigure(spec, options, Math.max(120, div.parentElement.clientWidth || 600));
  div.style.height = `${num(figure.layout.height) || 450}px`;
  return loadPlotly(options.plotlyUrl)
    .then((Plotly) => Plotly.react(div, figure.data, figure.layout, CONFIG))
    .catch((err) => console.error("genlab live view:", err));
}

// what dashboard/live_view.js draws each figure with
const RENDERER = { tag: "div", draw: drawPlotly };
