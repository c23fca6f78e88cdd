// genlab live canvas: draws the figures of a training page on <canvas> while a model trains.
//
// Why: plotly.js itself (dashboard/live_plotly.js) costs too much main-thread time per refresh for ten
// students' tabs on one machine (bench/RESULTS.md, "Live view: hand-written canvas vs Plotly.js").
//
// drawFigure(canvas, spec, options) draws one figure spec (dashboard/figures/canvas.py's canvas_spec:
// the JSON of a Plotly figure from dashboard/figures/, pruned to the subset drawn here): scatter /
// scattergl (lines, markers, lines+markers, triangle markers with angles), heatmap with a horizontal
// colour bar, layout title / margin / height / legend, xaxis, yaxis, yaxis2, line shapes and text
// annotations. Sizes follow Plotly's defaults and, in instructor mode, dashboard.common.style_figure
// (options.markerMin / lineMin: its smallest marker size and line width), so that the live picture
// and the paused Plotly figure look the same. The component around it is dashboard/live_view.js.

// Plotly's dash patterns (plotly.js drawing.dashStyle): in units of the line width, at least 3 px
const DASH = { dot: [1, 1], dash: [3, 3], longdash: [5, 5], dashdot: [3, 1, 1, 1], longdashdot: [5, 1, 1, 1] };
const dashArray = (dash, width) => (DASH[dash] || []).map((d) => d * Math.max(width, 3));
const THEMES = {
  light: { paper: "#ffffff", plot: "#ffffff", text: "#2a3f5f", grid: "#ebf0f8", axis: "#c8d4e3" },
  dark: { paper: "#0f1117", plot: "#161a23", text: "#f2f5fa", grid: "#283442", axis: "#506784" },
};

// Plotly's default font (the genlab templates set none): the canvas's texts then match the paused figures
const PLOTLY_FONT = '"Open Sans", verdana, arial, sans-serif';

let colorContext = null;
const colorCache = new Map();
function rgba(color) {
  // [r, g, b, a] of any CSS colour (cached)
  if (colorCache.has(color)) return colorCache.get(color);
  colorContext = colorContext || document.createElement("canvas").getContext("2d");
  colorContext.fillStyle = "#000";
  colorContext.fillStyle = color;
  const s = colorContext.fillStyle;
  let out;
  if (s[0] === "#") out = [parseInt(s.slice(1, 3), 16), parseInt(s.slice(3, 5), 16), parseInt(s.slice(5, 7), 16), 1];
  else out = s.replace(/[^\d.,]/g, "").split(",").map(Number).concat([1]).slice(0, 4);
  colorCache.set(color, out);
  return out;
}

function colorLut(scale) {
  // 256 RGB entries interpolated along a Plotly colour scale [[t, colour], ...]
  const stops = scale.map(([t, c]) => [num(t), rgba(c)]);
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    let j = 0;
    while (j < stops.length - 2 && t > stops[j + 1][0]) j++;
    const [t0, c0] = stops[j], [t1, c1] = stops[Math.min(j + 1, stops.length - 1)];
    const u = t1 > t0 ? Math.min(1, Math.max(0, (t - t0) / (t1 - t0))) : 0;
    for (let k = 0; k < 3; k++) lut[i * 3 + k] = c0[k] + u * (c1[k] - c0[k]);
  }
  return lut;
}

function tickStep(axis, span, lengthPx, isY) {
  // the axis's own dtick, else Plotly's automatic one (plotly.js axes.prepTicks / autoTicks): at most
  // length / 80 px (x) or length / 40 px (y) ticks, 5 to 10, the spacing rounded up to 2, 5 or 10 x 10^n
  if (axis && num(axis.dtick) > 0) return num(axis.dtick);
  const count = Math.min(9, Math.max(4, lengthPx / (isY ? 40 : 80))) + 1;
  const rough = Math.abs(span) / count;
  if (!(rough > 0) || !Number.isFinite(rough)) return 1;
  const base = Math.pow(10, Math.floor(Math.log10(rough)));
  const f = rough / base;
  return (f <= 2 ? 2 : f <= 5 ? 5 : 10) * base;
}

function tickText(v, step, format) {
  if (format === ".0%") return `${Math.round(v * 100)}%`;
  const a = Math.abs(v);
  if (a >= 1e6 && step >= 1e5) return `${+(v / 1e6).toFixed(Math.max(0, -Math.floor(Math.log10(step / 1e6))))}M`;
  if (a >= 1e3 && step >= 100) return `${+(v / 1e3).toFixed(Math.max(0, -Math.floor(Math.log10(step / 1e3))))}k`;
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  // as Plotly: no trailing zeros (0.5, 1, 1.5), a true minus sign
  return String(+(Math.abs(v) < step / 1e6 ? 0 : v).toFixed(digits)).replace("-", "−");
}

function finiteExtent(arrays, lo = Infinity, hi = -Infinity) {
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = num(a[i]);
      if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
    }
  }
  return [lo, hi];
}

function axisRange(axis, arrays, padFraction) {
  if (axis && Array.isArray(axis.range) && axis.range.length === 2) return axis.range.map(Number);
  let [lo, hi] = finiteExtent(arrays);
  if (axis && axis.rangemode === "tozero") { lo = Math.min(lo, 0); hi = Math.max(hi, 0); }
  if (!Number.isFinite(lo)) return [0, 1];
  if (hi - lo < 1e-12) { const d = Math.abs(lo) > 1e-12 ? Math.abs(lo) * 0.1 : 1; return [lo - d, hi + d]; }
  const pad = (hi - lo) * padFraction;
  return [axis && axis.rangemode === "tozero" && lo === 0 ? 0 : lo - pad, hi + pad];
}

function setFont(ctx, size, family, weight = "") {
  ctx.font = `${weight} ${size}px ${family}`;
}

function drawLine(ctx, xs, ys, X, Y) {
  // one path; a NaN / null starts a new segment
  ctx.beginPath();
  let pen = false;
  for (let i = 0; i < xs.length; i++) {
    const x = num(xs[i]), y = num(ys[i]);
    if (!Number.isFinite(x) || !Number.isFinite(y)) { pen = false; continue; }
    if (pen) ctx.lineTo(X(x), Y(y)); else { ctx.moveTo(X(x), Y(y)); pen = true; }
  }
  ctx.stroke();
}

function drawMarkers(ctx, trace, xs, ys, X, Y, style) {
  const m = trace.marker || {};
  const size = style.markerSize(num(m.size) || 6);
  const r = size / 2;
  const color = m.color || "#444";
  ctx.globalAlpha = m.opacity === undefined ? 1 : num(m.opacity);
  ctx.fillStyle = color;
  if (m.symbol === "triangle-up") {
    const angles = m.angle === undefined ? [] : decode(m.angle);
    ctx.beginPath();
    for (let i = 0; i < xs.length; i++) {
      const x = num(xs[i]), y = num(ys[i]);
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      const t = ((typeof angles === "number" ? angles : num(angles[i]) || 0) * Math.PI) / 180;
      const dx = Math.sin(t), dy = -Math.cos(t);           // clockwise from up, screen y down
      const cx = X(x), cy = Y(y), R = r * 1.15;
      ctx.moveTo(cx + dx * R, cy + dy * R);
      ctx.lineTo(cx - dx * R * 0.6 - dy * R * 0.85, cy - dy * R * 0.6 + dx * R * 0.85);
      ctx.lineTo(cx - dx * R * 0.6 + dy * R * 0.85, cy - dy * R * 0.6 - dx * R * 0.85);
      ctx.closePath();
    }
    ctx.fill();
  } else {
    const outline = m.line || {};
    const width = num(outline.width) || 0;
    ctx.strokeStyle = outline.color || "white";
    ctx.lineWidth = width;
    if (!width) {
      // no outline: one path and one fill for all markers (a fill per marker cost every live frame
      // 1000 draw calls; overlapping see-through markers then show as one layer, not stacked)
      ctx.beginPath();
      for (let i = 0; i < xs.length; i++) {
        const x = num(xs[i]), y = num(ys[i]);
        if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
        const cx = X(x), cy = Y(y);
        ctx.moveTo(cx + r, cy);
        ctx.arc(cx, cy, r, 0, 2 * Math.PI);
      }
      ctx.fill();
    } else {
      // each marker filled and outlined in turn, as Plotly draws them: one outline path over all the
      // fills would paint a dense cluster in the outline's colour
      for (let i = 0; i < xs.length; i++) {
        const x = num(xs[i]), y = num(ys[i]);
        if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
        ctx.beginPath();
        ctx.arc(X(x), Y(y), r, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      }
    }
  }
  ctx.globalAlpha = 1;
}

function drawHeatmap(ctx, trace, X, Y, area) {
  const xs = decode(trace.x), ys = decode(trace.y), z = decode(trace.z);
  const ny = z.length, nx = ny ? z[0].length : 0;
  if (!nx || !ny) return;
  const zmin = trace.zmin === undefined ? 0 : num(trace.zmin), zmax = trace.zmax === undefined ? 1 : num(trace.zmax);
  const lut = colorLut(trace.colorscale || [[0, "#000"], [1, "#fff"]]);
  const image = new ImageData(nx, ny);
  for (let r = 0; r < ny; r++) {
    const row = z[r], out = (ny - 1 - r) * nx;              // row 0 = lowest y: the bottom of the image
    for (let c = 0; c < nx; c++) {
      const v = num(row[c]);
      const p = (out + c) * 4;
      if (!Number.isFinite(v)) { image.data[p + 3] = 0; continue; }
      const k = Math.max(0, Math.min(255, Math.round(((v - zmin) / (zmax - zmin || 1)) * 255))) * 3;
      image.data[p] = lut[k]; image.data[p + 1] = lut[k + 1]; image.data[p + 2] = lut[k + 2]; image.data[p + 3] = 255;
    }
  }
  const tile = document.createElement("canvas");
  tile.width = nx; tile.height = ny;
  tile.getContext("2d").putImageData(image, 0, 0);
  const dx = nx > 1 ? (num(xs[nx - 1]) - num(xs[0])) / (nx - 1) : 1;
  const dy = ny > 1 ? (num(ys[ny - 1]) - num(ys[0])) / (ny - 1) : 1;
  const left = X(num(xs[0]) - dx / 2), right = X(num(xs[nx - 1]) + dx / 2);
  const top = Y(num(ys[ny - 1]) + dy / 2), bottom = Y(num(ys[0]) - dy / 2);
  ctx.save();
  ctx.beginPath(); ctx.rect(area.x, area.y, area.w, area.h); ctx.clip();
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(tile, left, top, right - left, bottom - top);
  ctx.restore();
}

// A horizontal colour bar under the plot, as Plotly places one: its block (10 px padding, title,
// bar, tick labels, 10 px padding) hangs from paper height y (negative: below the plot; without y,
// just below the x axis title), and Plotly's automargin makes the bottom margin room for all of it.
const COLORBAR_PAD = 10;
const colorbarBlock = (style, bar) => {
  const title = bar.title && bar.title.text ? style.colorbarTitle * 1.3 + 4 : 0;
  return { title, height: 2 * COLORBAR_PAD + title + (num(bar.thickness) || 12) + 4 + style.colorbarTick * 1.3 };
};
// from the plot's bottom edge to the colour bar's block: ticks and the x axis title
const colorbarOffset = (style) => 8 + style.tick + style.axisTitle * 1.3;

function colorbarRoom(style, trace, margin) {
  // the bottom margin the colour bar needs: with paper height y < 0 it hangs y * (paper height)
  // below the plot, and the paper height itself shrinks as the margin grows
  const bar = trace.colorbar || {};
  const block = colorbarBlock(style, bar).height;
  if (bar.y === undefined) return colorbarOffset(style) + block;
  const drop = Math.max(0, -num(bar.y));
  return (drop * (style.height - margin.t) + block) / (1 + drop);
}

function drawColorbar(ctx, trace, area, paper, style) {
  // the bar's length: len (a share of the paper's width) less the padding at both ends, centred at x
  const bar = trace.colorbar || {};
  const lut = colorLut(trace.colorscale || [[0, "#000"], [1, "#fff"]]);
  const length = Math.max(20, paper.w * (bar.len === undefined ? 1 : num(bar.len)) - 2 * COLORBAR_PAD);
  const thick = num(bar.thickness) || 12;
  const cx = paper.x + paper.w * (bar.x === undefined ? 0.5 : num(bar.x));
  const x0 = cx - length / 2;
  const titleSize = style.colorbarTitle;
  const title = bar.title && bar.title.text;
  const block = colorbarBlock(style, bar);
  const top = bar.y === undefined ? area.y + area.h + colorbarOffset(style) : paper.y + paper.h - num(bar.y) * paper.h;
  const y0 = Math.min(top, style.height - block.height) + block.title + 4;   // never cut off
  ctx.fillStyle = style.theme.text;
  if (title) {
    setFont(ctx, titleSize, style.family);
    ctx.textAlign = "center"; ctx.textBaseline = "middle";
    ctx.fillText(title, x0 + length / 2, y0 - 4 - block.title / 2);
  }
  const grad = ctx.createLinearGradient(x0, 0, x0 + length, 0);
  for (let i = 0; i <= 10; i++) {
    const k = Math.round((i / 10) * 255) * 3;
    grad.addColorStop(i / 10, `rgb(${lut[k]},${lut[k + 1]},${lut[k + 2]})`);
  }
  ctx.fillStyle = grad;
  ctx.fillRect(x0, y0, length, thick);
  const vals = bar.tickvals || [], texts = bar.ticktext || vals;
  const zmin = trace.zmin === undefined ? 0 : num(trace.zmin), zmax = trace.zmax === undefined ? 1 : num(trace.zmax);
  setFont(ctx, style.colorbarTick, style.family);
  ctx.fillStyle = style.theme.text;
  ctx.textBaseline = "top";
  ctx.textAlign = "center";                     // as Plotly: each label centred on its value
  vals.forEach((v, i) => {
    const u = (num(v) - zmin) / (zmax - zmin || 1);
    ctx.fillText(String(texts[i]), x0 + u * length, y0 + thick + 4);
  });
}

function legendItems(traces) {
  const items = [];
  for (const t of traces) {
    if (t.type === "heatmap" || t.showlegend === false || !t.name) continue;
    const line = (t.mode || "lines").includes("lines");
    items.push({
      name: String(t.name), line, color: line ? (t.line || {}).color : (t.marker || {}).color,
      dash: line ? (t.line || {}).dash : null,
    });
  }
  return items;
}

function drawFigure(canvas, spec, options) {
  const layout = spec.layout || {}, traces = spec.data || [];
  const theme = options.dark ? THEMES.dark : THEMES.light;
  const font = options.font || 14;
  const family = options.family || PLOTLY_FONT;
  // font sizes as Plotly's defaults (title 1.4x, axis and colour-bar titles 1.2x the font, ticks the
  // font) and, in instructor mode, as dashboard.common.style_figure sets them (title +4, axis titles
  // the font, ticks -2; markers and lines at least options.markerMin / options.lineMin)
  const instructor = !!options.instructor;
  const style = {
    theme, font, family,
    tick: instructor ? font - 2 : font,
    axisTitle: instructor ? font : Math.round(font * 1.2),
    colorbarTitle: Math.round(font * 1.2),      // style_figure leaves the colour bar at Plotly's defaults
    colorbarTick: font,
    title: instructor ? font + 4 : Math.round(font * 1.4),
    markerSize: (size) => (instructor ? Math.max(size, options.markerMin || 0) : size),
    lineWidth: (width) => (instructor ? Math.max(width, options.lineMin || 0) : width),
  };
  style.height = num(layout.height) || 400;
  const width = Math.max(120, canvas.parentElement.clientWidth || 600);
  const height = num(layout.height) || 400;
  const ratio = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio); canvas.height = Math.round(height * ratio);
  }
  canvas.style.height = `${height}px`;         // width: 100% of its cell (CSS), so resizing never loops
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.fillStyle = options.dark ? theme.paper : (layout.paper_bgcolor || theme.paper);
  ctx.fillRect(0, 0, width, height);

  const margin = Object.assign({ l: 80, r: 80, t: 100, b: 80 }, layout.margin || {});
  for (const t of traces) {          // a colour bar under the plot: make room for it at this font size
    if (t.type === "heatmap" && t.colorbar && t.showscale !== false) margin.b = Math.max(margin.b, colorbarRoom(style, t, margin));
  }
  const y2 = layout.yaxis2 || null;
  const xa = layout.xaxis || {}, ya = layout.yaxis || {};
  const onY2 = (t) => t.yaxis === "y2";
  const dataX = traces.filter((t) => t.type !== "heatmap").map((t) => decode(t.x));
  const heat = traces.filter((t) => t.type === "heatmap");
  const xr = axisRange(xa, dataX.concat(heat.map((t) => decode(t.x))), 0);
  const yr = axisRange(ya, traces.filter((t) => !onY2(t) && t.type !== "heatmap").map((t) => decode(t.y)), 0.06);
  const y2r = y2 ? axisRange(y2, traces.filter(onY2).map((t) => decode(t.y)), 0.06) : null;

  // automargin (as Plotly's): room at the sides for the y tick labels and the axis titles at this font
  const plotHeight = Math.max(40, height - margin.t - margin.b);
  const ystep = tickStep(ya, yr[1] - yr[0], plotHeight, true);
  const step2 = y2r ? tickStep(y2, y2r[1] - y2r[0], plotHeight, true) : 0;
  const labelWidth = (range, step, format) => {
    setFont(ctx, style.tick, family);
    let widest = 0;
    for (let v = Math.ceil(range[0] / step) * step; v <= range[1] + step * 1e-9; v += step)
      widest = Math.max(widest, ctx.measureText(tickText(v, step, format)).width);
    return widest;
  };
  const titleRoom = style.axisTitle * 1.3;
  margin.l = Math.max(margin.l, labelWidth(yr, ystep, ya.tickformat) + 10 + (ya.title && ya.title.text ? titleRoom : 0));
  if (y2r) margin.r = Math.max(margin.r, labelWidth(y2r, step2, y2.tickformat) + 10 + (y2.title && y2.title.text ? titleRoom : 0));
  let area = { x: margin.l, y: margin.t, w: width - margin.l - margin.r, h: plotHeight };
  area.w = Math.max(40, area.w);
  const paper = Object.assign({}, area);           // Plotly's "paper": the plot area before equal axes

  if (ya.scaleanchor === "x") {                  // equal units on both axes, centred (constrain: domain)
    const unit = Math.min(area.w / (xr[1] - xr[0]), area.h / (yr[1] - yr[0]));
    const w = unit * (xr[1] - xr[0]), h = unit * (yr[1] - yr[0]);
    area = { x: area.x + (area.w - w) / 2, y: area.y + (area.h - h) / 2, w, h };
  }
  const X = (v) => area.x + ((v - xr[0]) / (xr[1] - xr[0])) * area.w;
  const Y = (v) => area.y + area.h - ((v - yr[0]) / (yr[1] - yr[0])) * area.h;
  const Y2 = y2r ? (v) => area.y + area.h - ((v - y2r[0]) / (y2r[1] - y2r[0])) * area.h : Y;

  // plot background, grid, ticks
  ctx.fillStyle = options.dark ? theme.plot : (layout.plot_bgcolor || theme.plot);
  ctx.fillRect(area.x, area.y, area.w, area.h);
  setFont(ctx, style.tick, family);
  ctx.lineWidth = 1;
  const xstep = tickStep(xa, xr[1] - xr[0], area.w, false);
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (let v = Math.ceil(xr[0] / xstep) * xstep; v <= xr[1] + xstep * 1e-9; v += xstep) {
    const px = X(v);
    ctx.strokeStyle = theme.grid; ctx.beginPath(); ctx.moveTo(px, area.y); ctx.lineTo(px, area.y + area.h); ctx.stroke();
    ctx.fillStyle = theme.text; ctx.fillText(tickText(v, xstep, xa.tickformat), px, area.y + area.h + 5);
  }
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (let v = Math.ceil(yr[0] / ystep) * ystep; v <= yr[1] + ystep * 1e-9; v += ystep) {
    const py = Y(v);
    ctx.strokeStyle = theme.grid; ctx.beginPath(); ctx.moveTo(area.x, py); ctx.lineTo(area.x + area.w, py); ctx.stroke();
    ctx.fillStyle = theme.text; ctx.fillText(tickText(v, ystep, ya.tickformat), area.x - 6, py);
  }
  if (y2r) {
    ctx.textAlign = "left";
    for (let v = Math.ceil(y2r[0] / step2) * step2; v <= y2r[1] + step2 * 1e-9; v += step2) {
      ctx.fillStyle = theme.text; ctx.fillText(tickText(v, step2, y2.tickformat), area.x + area.w + 6, Y2(v));
    }
  }

  // axis titles
  setFont(ctx, style.axisTitle, family);
  ctx.fillStyle = theme.text;
  const xTitle = xa.title && xa.title.text;
  if (xTitle) {
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    ctx.fillText(xTitle, area.x + area.w / 2, area.y + area.h + 8 + style.tick);
  }
  const rotated = (text, x, y, angle) => {
    ctx.save(); ctx.translate(x, y); ctx.rotate(angle); ctx.textAlign = "center"; ctx.textBaseline = "middle";
    ctx.fillText(text, 0, 0); ctx.restore();
  };
  const yTitle = ya.title && ya.title.text;
  const half = style.axisTitle * 0.7;
  if (yTitle) rotated(yTitle, Math.max(half, area.x - margin.l + half), area.y + area.h / 2, -Math.PI / 2);
  const y2Title = y2 && y2.title && y2.title.text;
  if (y2Title) rotated(y2Title, Math.min(width - half, area.x + area.w + margin.r - half), area.y + area.h / 2, Math.PI / 2);

  // traces, clipped to the plot area
  ctx.save();
  ctx.beginPath(); ctx.rect(area.x, area.y, area.w, area.h); ctx.clip();
  for (const t of traces) {
    if (t.visible === false) continue;
    if (t.type === "heatmap") { drawHeatmap(ctx, t, X, Y, area); continue; }
    const xs = decode(t.x), ys = decode(t.y), Yt = onY2(t) ? Y2 : Y;
    const mode = t.mode || "lines";
    if (mode.includes("lines")) {
      const line = t.line || {};
      ctx.strokeStyle = line.color || "#444";
      ctx.lineWidth = style.lineWidth(line.width === undefined ? 2 : num(line.width));
      ctx.setLineDash(dashArray(line.dash, ctx.lineWidth));
      ctx.lineJoin = "round";
      drawLine(ctx, xs, ys, X, Yt);
      ctx.setLineDash([]);
    }
    if (mode.includes("markers")) drawMarkers(ctx, t, xs, ys, X, Yt, style);
  }
  ctx.restore();

  // shapes (lines) and annotations
  const sx = (ref, v) => (ref === "paper" ? area.x + num(v) * area.w : X(num(v)));
  const sy = (ref, v) => (ref === "paper" ? area.y + area.h - num(v) * area.h : ref === "y2" ? Y2(num(v)) : Y(num(v)));
  for (const s of layout.shapes || []) {
    if (s.type && s.type !== "line") continue;
    const line = s.line || {};
    ctx.strokeStyle = line.color || "#888";
    ctx.lineWidth = num(line.width) || 1;
    ctx.setLineDash(dashArray(line.dash, ctx.lineWidth));
    ctx.beginPath();
    ctx.moveTo(sx(s.xref, s.x0), sy(s.yref, s.y0));
    ctx.lineTo(sx(s.xref, s.x1), sy(s.yref, s.y1));
    ctx.stroke();
    ctx.setLineDash([]);
  }
  for (const a of layout.annotations || []) {
    const f = a.font || {};
    const size = Math.max(num(f.size) || font, options.instructor ? font : 0);
    setFont(ctx, size, family);
    ctx.fillStyle = f.color || theme.text;
    const lines = String(a.text || "").split(/<br\s*\/?>/i);
    const px = sx(a.xref, a.x) + (num(a.xshift) || 0), py = sy(a.yref, a.y) - (num(a.yshift) || 0);
    ctx.save();
    ctx.translate(px, py);
    if (num(a.textangle) === -90) {
      // reads bottom to top, hanging down from (x, y) just left of it (Plotly: xanchor right, yanchor top)
      ctx.rotate(-Math.PI / 2); ctx.textAlign = "right"; ctx.textBaseline = "bottom";
      ctx.fillText(lines.join(" "), -2, -2);
    } else {
      ctx.textAlign = a.xanchor === "right" ? "right" : a.xanchor === "center" ? "center" : "left";
      ctx.textBaseline = "top";
      const lead = size * 1.2;
      const top = a.yanchor === "bottom" ? -lead * lines.length : a.yanchor === "middle" ? -lead * lines.length / 2 : 0;
      lines.forEach((text, i) => ctx.fillText(text, 0, top + i * lead));
    }
    ctx.restore();
  }

  // colour bar (horizontal, under the plot), title, legend
  for (const t of heat) if (t.colorbar && t.showscale !== false) drawColorbar(ctx, t, area, paper, style);
  const title = layout.title && (layout.title.text || (typeof layout.title === "string" ? layout.title : ""));
  const legendY = area.y - 4;
  if (title) {
    setFont(ctx, style.title, family);
    ctx.fillStyle = theme.text; ctx.textAlign = "left"; ctx.textBaseline = "top";
    ctx.fillText(String(title).replace(/<[^>]+>/g, ""), Math.max(8, width * 0.01), Math.max(4, height * 0.02));
  }
  if (layout.showlegend !== false) {
    const items = legendItems(traces);
    setFont(ctx, font, family);
    const rows = [[]];
    let x = area.x;
    for (const item of items) {
      const w = 34 + ctx.measureText(item.name).width + 16;
      if (x + w > width - 4 && rows[rows.length - 1].length) { rows.push([]); x = area.x; }
      rows[rows.length - 1].push([item, x]);
      x += w;
    }
    const lead = font * 1.35;
    rows.forEach((row, i) => {
      const cy = legendY - (rows.length - 1 - i) * lead - lead / 2;
      for (const [item, x0] of row) {
        ctx.strokeStyle = item.color || "#444"; ctx.fillStyle = item.color || "#444";
        if (item.line) {
          ctx.lineWidth = style.lineWidth(2); ctx.setLineDash(dashArray(item.dash, ctx.lineWidth));
          ctx.beginPath(); ctx.moveTo(x0, cy); ctx.lineTo(x0 + 28, cy); ctx.stroke(); ctx.setLineDash([]);
        } else {
          ctx.beginPath(); ctx.arc(x0 + 14, cy, style.markerSize(8) / 2, 0, 2 * Math.PI); ctx.fill();
        }
        ctx.fillStyle = theme.text; ctx.textAlign = "left"; ctx.textBaseline = "middle";
        ctx.fillText(item.name, x0 + 34, cy);
      }
    });
  }
}

// what dashboard/live_view.js draws each figure with
const RENDERER = { tag: "canvas", draw: drawFigure };
