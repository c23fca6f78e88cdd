// Test helper of tests/unit/test_live_canvas.py (run with node): draws figure specs with
// dashboard/live_canvas.js's drawFigure on a stand-in 2D context that records its texts and markers.
import { readFileSync, writeFileSync } from "node:fs";
const [, , jsPath, inputPath] = process.argv;
// the renderer, then the component around it (live_view.js, next to it), as dashboard/live_canvas.py joins them
const viewPath = jsPath.replace(/live_canvas\.js$/, "live_view.js");
const source = readFileSync(jsPath, "utf8") + "\n" + readFileSync(viewPath, "utf8") + "\nexport { drawFigure };\n";
const modulePath = inputPath + ".module.mjs";
writeFileSync(modulePath, source);
function recorder() {
  const calls = [];
  const stack = [];
  let dx = 0, dy = 0;                     // translate() offsets (rotations are not tracked)
  const ctx = {
    calls, font: "", fillStyle: "#000", strokeStyle: "#000", lineWidth: 1, globalAlpha: 1,
    textAlign: "left", textBaseline: "alphabetic",
    measureText: (t) => ({ width: String(t).length * 7 }),
    fillText(text, x, y) { calls.push({ op: "text", text: String(text), x: x + dx, y: y + dy, font: this.font }); },
    arc(x, y, r) { calls.push({ op: "arc", x: x + dx, y: y + dy, r, color: this.fillStyle, alpha: this.globalAlpha }); },
    translate(x, y) { dx += x; dy += y; },
    save() { stack.push([dx, dy]); },
    restore() { [dx, dy] = stack.pop() || [0, 0]; },
    createLinearGradient: () => ({ addColorStop() {} }),
    putImageData() {}, drawImage() {},
  };
  for (const name of ["setTransform", "fillRect", "beginPath", "moveTo", "lineTo", "stroke", "fill", "closePath",
    "rect", "clip", "rotate", "setLineDash"]) ctx[name] = () => {};
  return ctx;
}
globalThis.window = { devicePixelRatio: 1 };
globalThis.ImageData = class { constructor(w, h) { this.data = new Uint8ClampedArray(w * h * 4); } };
globalThis.document = { createElement: () => ({ getContext: () => recorder(), width: 0, height: 0 }) };
globalThis.atob = (b) => Buffer.from(b, "base64").toString("binary");
const { drawFigure } = await import(modulePath);
const input = JSON.parse(readFileSync(inputPath, "utf8"));
const out = input.figures.map(({ spec, options, width }) => {
  const ctx = recorder();
  const canvas = { parentElement: { clientWidth: width }, style: {}, dataset: {}, width: 0, height: 0, getContext: () => ctx };
  drawFigure(canvas, spec, Object.assign({ family: "sans-serif" }, options));
  return ctx.calls;
});
process.stdout.write(JSON.stringify(out));
