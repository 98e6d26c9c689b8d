// The inkread web page: sign in with client credentials, send an image to /v1/recognize, show the
// text (copy, TXT/JSON download) and draw the lines found over the image (lines.js: the lines to
// correct, downloaded as line pairs). No framework, no build.
"use strict";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "inkread.token";

const state = { file: null, result: null, image: null };

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

function problemText(body, status) {
  if (body && typeof body === "object") {
    const name = body.error && typeof body.error === "string" ? body.error + ": " : "";
    const detail = body.detail || body.error_description || JSON.stringify(body);
    return name + detail + (body.hint ? " (" + body.hint + ")" : "");
  }
  return "HTTP " + status;
}

// ---- the token --------------------------------------------------------------------------------
function savedToken() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(TOKEN_KEY) || "null");
    if (saved && saved.expires > Date.now() + 5000) return saved;
  } catch (e) { /* ignore */ }
  sessionStorage.removeItem(TOKEN_KEY);
  return null;
}

function showSignedIn() {
  const saved = savedToken();
  $("login-panel").hidden = !!saved;
  $("work-panel").hidden = !saved;
  $("signed-in").hidden = !saved;
  $("who").textContent = saved ? saved.clientId : "";
  if (saved) loadLanguages();
}

async function login(event) {
  event.preventDefault();
  showError("");
  const clientId = $("client-id").value.trim();
  const form = new URLSearchParams({
    grant_type: "client_credentials", client_id: clientId, client_secret: $("client-secret").value,
  });
  let response;
  try {
    response = await fetch("/connect/token", { method: "POST", body: form });
  } catch (e) {
    showError("Cannot reach the service: " + e.message);
    return;
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    showError(response.status === 401 ? "Sign-in failed: unknown client id or wrong secret."
                                      : "Sign-in failed: " + problemText(body, response.status));
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify({
    token: body.access_token, clientId, expires: Date.now() + body.expires_in * 1000,
  }));
  $("client-secret").value = "";
  showSignedIn();
}

function logout() {
  sessionStorage.removeItem(TOKEN_KEY);
  showSignedIn();
}

// ---- languages ----------------------------------------------------------------------------------
let languagesLoaded = false;
async function loadLanguages() {
  if (languagesLoaded) return;
  try {
    const response = await fetch("/v1/languages");
    if (!response.ok) return;
    const list = await response.json();
    const select = $("language");
    select.textContent = "";
    const auto = document.createElement("option"); // each page's own language, found from a first reading
    auto.value = "auto";
    auto.textContent = "Automatic (each page's own)";
    select.appendChild(auto);
    for (const lang of list) {
      const option = document.createElement("option");
      option.value = lang.code;
      option.textContent = lang.name;
      select.appendChild(option);
    }
    select.value = "auto";
    languagesLoaded = true;
  } catch (e) { /* keep the list as the page has it */ }
}

// ---- choosing a file --------------------------------------------------------------------------
function chooseFile(file) {
  if (!file) return;
  state.file = file;
  state.result = null;
  $("file-name").textContent = file.name + " (" + Math.round(file.size / 1024) + " kB)";
  $("recognize").disabled = false;
  setResult(null);
  loadPreview(file);
}

function loadPreview(file) {
  state.image = null;
  const canvas = $("overlay");
  canvas.width = 0;
  canvas.height = 0;
  $("preview-note").textContent = "";
  if (file.type === "application/pdf" || /\.pdf$/i.test(file.name)) {
    $("preview-note").textContent = "No preview for PDFs; the text appears on the right.";
    return;
  }
  const url = URL.createObjectURL(file);
  const img = new Image();
  img.onload = () => { state.image = img; draw(); renderLines(); };
  img.onerror = () => { $("preview-note").textContent = "This browser cannot show this image; the text still works."; };
  img.src = url;
}

// ---- the overlay --------------------------------------------------------------------------------
function draw() {
  const canvas = $("overlay");
  const img = state.image;
  let count = 0;
  if (!img) { canvas.dataset.lines = "0"; return; }
  const scale = Math.min(1, 1600 / Math.max(img.naturalWidth, img.naturalHeight));
  canvas.width = Math.round(img.naturalWidth * scale);
  canvas.height = Math.round(img.naturalHeight * scale);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  const page = state.result && state.result.pages && state.result.pages[0];
  if (page) {
    // boxes are in the original image's pixels (EXIF orientation applied, as the browser shows it)
    const sx = canvas.width / page.width;
    const sy = canvas.height / page.height;
    ctx.lineWidth = Math.max(2, canvas.width / 400);
    ctx.strokeStyle = "rgba(220, 30, 60, 0.9)";
    ctx.fillStyle = "rgba(220, 30, 60, 0.08)";
    for (const line of page.lines || []) {
      const poly = line.bbox || [];
      if (poly.length < 3) continue;
      ctx.beginPath();
      ctx.moveTo(poly[0][0] * sx, poly[0][1] * sy);
      for (const [x, y] of poly.slice(1)) ctx.lineTo(x * sx, y * sy);
      ctx.closePath();
      ctx.fill();
      ctx.stroke();
      count += 1;
    }
  }
  canvas.dataset.lines = String(count);
}

// ---- recognising ------------------------------------------------------------------------------
function setResult(result) {
  state.result = result;
  $("text").value = result ? result.text : "";
  for (const id of ["copy", "download-txt", "download-json"]) $(id).disabled = !result;
  $("copy-status").textContent = "";
  $("summary").textContent = result
    ? `${result.pages.length} page(s), ${result.pages.reduce((n, p) => n + p.lines.length, 0)} line(s), ` +
      `mode ${result.mode}, confidence ${(result.confidence * 100).toFixed(0)}%`
    : "";
  draw();
  renderLines(); // lines.js: each line beside its image, to correct
}

async function recognize(event) {
  event.preventDefault();
  showError("");
  const saved = savedToken();
  if (!saved) { showSignedIn(); showError("Your session has ended: sign in again."); return; }
  if (!state.file) { showError("Choose an image or PDF first."); return; }
  const form = new FormData();
  form.append("file", state.file, state.file.name);
  form.append("mode", $("mode").value);
  form.append("language", $("language").value);
  $("recognize").disabled = true;
  $("busy").hidden = false;
  try {
    const response = await fetch("/v1/recognize", {
      method: "POST", body: form, headers: { Authorization: "Bearer " + saved.token },
    });
    const body = await response.json().catch(() => null);
    if (response.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      showSignedIn();
      showError("Your session has ended: sign in again.");
      return;
    }
    if (!response.ok) {
      const retry = response.headers.get("Retry-After");
      showError(problemText(body, response.status) + (retry ? ` Try again in ${retry} s.` : ""));
      return;
    }
    setResult(body);
  } catch (e) {
    showError("Cannot reach the service: " + e.message);
  } finally {
    $("recognize").disabled = !state.file;
    $("busy").hidden = true;
  }
}

// ---- copy and download ------------------------------------------------------------------------
async function copyText() {
  const text = $("text").value;
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch (e) {
    const area = $("text");
    area.focus();
    area.select();
    try { ok = document.execCommand("copy"); } catch (e2) { ok = false; }
  }
  $("copy-status").textContent = ok ? "Copied" : "Select the text and copy it (Ctrl+C)";
}

function baseName() {
  const name = state.file ? state.file.name : "inkread";
  return name.replace(/\.[^.]+$/, "") || "inkread";
}

function download(content, type, suffix) {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = baseName() + suffix;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// ---- wiring -------------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  $("ocr-form").addEventListener("submit", recognize);
  $("file").addEventListener("change", (e) => chooseFile(e.target.files[0]));
  const zone = $("drop-zone");
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (e) => { e.preventDefault(); zone.classList.add("over"); });
  }
  for (const name of ["dragleave", "drop"]) {
    zone.addEventListener(name, (e) => { e.preventDefault(); zone.classList.remove("over"); });
  }
  zone.addEventListener("drop", (e) => chooseFile(e.dataTransfer && e.dataTransfer.files[0]));
  zone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") $("file").click(); });
  $("copy").addEventListener("click", copyText);
  $("download-txt").addEventListener("click", () => download($("text").value, "text/plain;charset=utf-8", ".txt"));
  $("download-json").addEventListener("click",
    () => download(JSON.stringify(state.result, null, 2), "application/json", ".json"));
  showSignedIn();
});
