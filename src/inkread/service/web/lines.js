// The lines of a reading, to correct: each line's image (cut here from the picture the person chose,
// with the line's box from the JSON result) beside its text in a field; "Download line pairs" saves
// NAME_l001.png + NAME_l001.gt.txt ... as a .zip (written here: stored, not compressed) for
// `inkread train`. Uses app.js's globals: $, state, baseName, download.
"use strict";

// ---- cutting a line out of the picture ----------------------------------------------------------
function lineCanvas(img, poly, sx, sy) {
  // As `inkread --format gt` cuts it: a box along the image's axes whole (turned upright when the
  // line runs up or down the page), a skewed line mapped upright (tl, tr, bl corners; the canvas is
  // affine only, the CLI's warp is a perspective one).
  const p = poly.map(([x, y]) => [x * sx, y * sy]);
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d");
  const n = p.length;
  const edges = p.map((a, i) => [p[(i + 1) % n][0] - a[0], p[(i + 1) % n][1] - a[1]]);
  const alongAxes = n !== 4 || edges.every(([dx, dy]) => Math.min(Math.abs(dx), Math.abs(dy)) <= 1);
  if (alongAxes) {
    const W = img.naturalWidth, H = img.naturalHeight;
    const clamp = (v, hi) => Math.min(Math.max(v, 0), hi);
    const xs = p.map((q) => q[0]), ys = p.map((q) => q[1]);
    const x0 = clamp(Math.floor(Math.min(...xs) + 1e-6), W), x1 = clamp(Math.ceil(Math.max(...xs) - 1e-6), W);
    const y0 = clamp(Math.floor(Math.min(...ys) + 1e-6), H), y1 = clamp(Math.ceil(Math.max(...ys) - 1e-6), H);
    const w = x1 - x0, h = y1 - y0;
    if (w <= 0 || h <= 0) return null;
    const turns = n === 4 ? ((Math.round(Math.atan2(edges[0][1], edges[0][0]) / (Math.PI / 2)) % 4) + 4) % 4 : 0;
    canvas.width = turns % 2 ? h : w;
    canvas.height = turns % 2 ? w : h;
    ctx.imageSmoothingEnabled = false;
    ctx.translate(canvas.width / 2, canvas.height / 2);
    ctx.rotate((-turns * Math.PI) / 2); // quarter turns anticlockwise
    ctx.drawImage(img, x0, y0, w, h, -w / 2, -h / 2, w, h);
    return canvas;
  }
  const [tl, tr, br, bl] = p;
  const dist = (a, b) => Math.hypot(b[0] - a[0], b[1] - a[1]);
  const w = Math.max(1, Math.round(Math.max(dist(tl, tr), dist(bl, br))));
  const h = Math.max(1, Math.round(Math.max(dist(tl, bl), dist(tr, br))));
  canvas.width = w;
  canvas.height = h;
  // the image point tl + u*ex + v*ey goes to (u, v): the inverse of [ex ey] as the canvas transform
  const ex = [(tr[0] - tl[0]) / w, (tr[1] - tl[1]) / w], ey = [(bl[0] - tl[0]) / h, (bl[1] - tl[1]) / h];
  const det = ex[0] * ey[1] - ey[0] * ex[1];
  if (!det) return null;
  const a = ey[1] / det, b = -ex[1] / det, c = -ey[0] / det, d = ex[0] / det;
  ctx.setTransform(a, b, c, d, -(a * tl[0] + c * tl[1]), -(b * tl[0] + d * tl[1]));
  ctx.drawImage(img, 0, 0);
  return canvas;
}

function lineName(number) {
  return baseName() + "_l" + String(number).padStart(3, "0");
}

// ---- the list -----------------------------------------------------------------------------------
function renderLines() {
  const list = $("lines");
  const panel = $("lines-panel");
  list.textContent = "";
  $("lines-note").textContent = "";
  const result = state.result;
  const page = result && result.pages && result.pages[0];
  panel.hidden = !page;
  let count = 0;
  if (page && !state.image) {
    $("lines-note").textContent = "The line images are cut from the picture; a PDF has none here: "
      + "'inkread FILE -o DIR --format gt' writes its lines.";
  } else if (page) {
    if (result.pages.length > 1) $("lines-note").textContent = "The first page's lines.";
    const img = state.image;
    const sx = img.naturalWidth / page.width, sy = img.naturalHeight / page.height;
    (page.lines || []).forEach((line, i) => {
      const canvas = line.bbox && line.bbox.length >= 3 ? lineCanvas(img, line.bbox, sx, sy) : null;
      if (!canvas) return;
      const item = document.createElement("li");
      item.value = i + 1;
      item.dataset.number = String(i + 1);
      canvas.setAttribute("aria-hidden", "true");
      const field = document.createElement("input");
      field.type = "text";
      field.value = line.text;
      field.dir = "auto";
      field.spellcheck = false;
      field.setAttribute("aria-label", "line " + (i + 1));
      field.addEventListener("input", () => item.classList.toggle("edited", field.value !== line.text));
      item.append(canvas, field);
      list.appendChild(item);
      count += 1;
    });
  }
  list.dataset.count = String(count);
  $("download-gt").disabled = count === 0;
}

// ---- a .zip, stored (no compression: PNGs are compressed already) --------------------------------
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function zipStored(files) {
  // files: [{name, data: Uint8Array}] -> a Blob (local headers and data, central directory, end record)
  const encoder = new TextEncoder();
  const now = new Date();
  const time = (now.getHours() << 11) | (now.getMinutes() << 5) | (now.getSeconds() >> 1);
  const date = ((now.getFullYear() - 1980) << 9) | ((now.getMonth() + 1) << 5) | now.getDate();
  const body = [], central = [];
  let offset = 0;
  for (const file of files) {
    const name = encoder.encode(file.name);
    const size = file.data.length, crc = crc32(file.data);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true); // version needed: 2.0
    local.setUint16(6, 0x0800, true); // names in UTF-8
    local.setUint16(10, time, true);
    local.setUint16(12, date, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, size, true);
    local.setUint32(22, size, true);
    local.setUint16(26, name.length, true);
    body.push(local, name, file.data);
    const entry = new DataView(new ArrayBuffer(46));
    entry.setUint32(0, 0x02014b50, true);
    entry.setUint16(4, 20, true);
    entry.setUint16(6, 20, true);
    entry.setUint16(8, 0x0800, true);
    entry.setUint16(12, time, true);
    entry.setUint16(14, date, true);
    entry.setUint32(16, crc, true);
    entry.setUint32(20, size, true);
    entry.setUint32(24, size, true);
    entry.setUint16(28, name.length, true);
    entry.setUint32(42, offset, true);
    central.push(entry, name);
    offset += 30 + name.length + size;
  }
  const centralSize = central.reduce((total, part) => total + part.byteLength, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, files.length, true);
  end.setUint16(10, files.length, true);
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true);
  return new Blob([...body, ...central, end], { type: "application/zip" });
}

async function downloadLines() {
  const encoder = new TextEncoder();
  const files = [];
  for (const item of $("lines").children) {
    const text = item.querySelector("input").value.replace(/[\r\n\u2028\u2029]+/g, " ").trim();
    if (!text) continue; // an empty line is left out
    const canvas = item.querySelector("canvas");
    const png = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    const name = lineName(Number(item.dataset.number));
    files.push({ name: name + ".png", data: new Uint8Array(await png.arrayBuffer()) });
    files.push({ name: name + ".gt.txt", data: encoder.encode(text + "\n") });
  }
  if (!files.length) { showError("Every line is empty: nothing to download."); return; }
  showError("");
  download(zipStored(files), "application/zip", "_lines.zip");
}

document.addEventListener("DOMContentLoaded", () => {
  $("download-gt").addEventListener("click", downloadLines);
});
