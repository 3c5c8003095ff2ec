// numpynn playground: the page only draws. Training, the boundary, the neuron maps and every
// inspector number come from the server (numpynn, in Python) over one WebSocket per tab.
"use strict";

const $ = (id) => document.getElementById(id);
const FEATURES = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"];
const ONE_D = ["x1", "x1^2", "sin(x1)"];
const REGRESSION = ["sine", "course-points"];
const ACTIVATIONS = ["tanh", "relu", "leaky_relu", "sigmoid", "scaled_tanh", "swish", "gelu",
                     "elu", "identity"];
const INITS = ["xavier_uniform", "xavier_normal", "he_normal", "he_uniform", "lecun_normal",
               "normal", "zeros"];
const MAX_UNITS = 16, MAX_LAYERS = 6, MAX_CSV_BYTES = 1000000;
const NEG = [245, 147, 34], POS = [8, 119, 189];   // orange: class 0 / negative; blue: 1 / positive

const state = {
  ws: null, session: null, settings: null, frame: null, points: null, running: false,
  curve: [], selected: null, inspection: null, stage: 0, hover: null, frames: [],
};

// ---------------------------------------------------------------------------- messages
function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
}

function showError(text) {
  $("error").textContent = text || "";
  $("error").hidden = !text;
}

function connect() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  state.ws = ws;
  ws.onmessage = (event) => receive(JSON.parse(event.data));
  ws.onclose = () => showError("the connection to the numpynn server is closed; restart " +
                               "numpynn playground and reload the page");
}

const RECEIVERS = {
  hello(m) {
    state.session = m.session;
    document.body.dataset.session = m.session;
    for (const [id, file] of [["export-model", "model.npz"], ["export-toml", "playground.toml"],
                              ["export-py", "playground.py"]]) {
      $(id).href = `/api/export/${m.session}/${file}`;
    }
    const query = location.hash.slice(1);
    send(query ? { type: "settings", query } : { type: "settings", settings: {} });
  },
  settings(m) {
    state.settings = m.settings;
    state.curve = [];
    state.inspection = null;
    fillForm(m.settings);
    history.replaceState(null, "", "#" + m.query);
    $("share-url").value = location.href;
    showError("");
    layoutNetwork();
  },
  points(m) { state.points = m; },
  frame(m) {
    state.frame = m;
    state.running = m.running;
    state.frames.push(performance.now());
    drawFrame(m);
    if (state.selected && (!m.running || state.frames.length % 10 === 0)) inspect();
  },
  inspection(m) {
    state.inspection = m;
    showInspection();
  },
  error(m) { showError(m.message); },
};

function receive(message) {
  const handler = RECEIVERS[message.type];
  if (handler) handler(message);
}

// ---------------------------------------------------------------------------- the form
const FIELDS = { "n-points": "n_points", noise: "noise", "test-fraction": "test_fraction",
                 seed: "seed", lr: "lr", optimizer: "optimizer", momentum: "momentum",
                 reg: "reg", "batch-size": "batch_size", "loss-fn": "loss", dataset: "dataset" };

function fillForm(s) {
  for (const [id, key] of Object.entries(FIELDS)) $(id).value = s[key];
  for (const box of document.querySelectorAll("#features input")) {
    box.checked = s.features.includes(box.value);
  }
  $("momentum").disabled = !["sgd", "rmsprop"].includes(s.optimizer);
  buildLayerControls(s.layers);
}

function readForm() {
  const s = {};
  for (const [id, key] of Object.entries(FIELDS)) s[key] = $(id).value;
  s.features = [...document.querySelectorAll("#features input:checked")].map((b) => b.value);
  s.layers = [...document.querySelectorAll(".layer-box")].map((box) => ({
    units: box.querySelector(".units input").value,
    activation: box.querySelector(".activation").value,
    init: box.querySelector(".init").value,
    dropout: box.querySelector(".dropout").value,
    batchnorm: box.querySelector(".batchnorm").checked,
  }));
  return s;
}

function changed() {
  send({ type: "settings", settings: readForm() });
}

function onDatasetChange() {
  // regression data have one input x1; classification losses do not fit them (and back)
  const regression = REGRESSION.includes($("dataset").value);
  for (const box of document.querySelectorAll("#features input")) {
    if (regression && !ONE_D.includes(box.value)) box.checked = false;
    if (regression && box.value === "x1") box.checked = true;
    if (!regression && (box.value === "x1" || box.value === "x2")) box.checked = true;
  }
  const loss = $("loss-fn").value;
  if (regression && loss.startsWith("bce")) $("loss-fn").value = "mse";
  if (!regression && loss === "l1") $("loss-fn").value = "bce";
  changed();
}

function options(select, values, chosen) {
  select.innerHTML = values.map((v) => `<option${v === chosen ? " selected" : ""}>${v}</option>`).join("");
}

function buildLayerControls(layers) {
  const holder = $("layer-controls");
  holder.innerHTML = "";
  layers.forEach((layer, i) => {
    const box = document.createElement("div");
    box.className = "layer-box";
    box.innerHTML = `<div class="units"><button class="minus">−</button>
      <input type="number" min="1" max="${MAX_UNITS}" value="${layer.units}">
      <button class="plus">+</button></div>
      <select class="activation"></select><select class="init"></select>
      <label>dropout <input class="dropout" type="text" value="${layer.dropout}"></label>
      <label><input class="batchnorm" type="checkbox"${layer.batchnorm ? " checked" : ""}> batch norm</label>`;
    options(box.querySelector(".activation"), ACTIVATIONS, layer.activation);
    options(box.querySelector(".init"), INITS, layer.init);
    const units = box.querySelector(".units input");
    box.querySelector(".minus").onclick = () => { units.value = Number(units.value) - 1; changed(); };
    box.querySelector(".plus").onclick = () => { units.value = Number(units.value) + 1; changed(); };
    box.addEventListener("change", changed);
    holder.appendChild(box);
  });
}

function setLayers(edit) {
  const s = readForm();
  edit(s.layers);
  send({ type: "settings", settings: s });
}

// ---------------------------------------------------------------------------- network
const GAP_X = 124, GAP_Y = 50, SIZE = 36;

function columnSizes() {
  const s = state.settings;
  return [s.features.length, ...s.layers.map((l) => Number(l.units)), 1];
}

function neuronPosition(column, unit) {
  return { x: 10 + column * GAP_X, y: 8 + unit * GAP_Y };
}

function layoutNetwork() {
  const net = $("network");
  for (const old of net.querySelectorAll(".neuron")) old.remove();
  const sizes = columnSizes();
  const svg = $("edges");
  svg.innerHTML = "";
  const width = 20 + (sizes.length - 1) * GAP_X + SIZE + 10;
  const height = 16 + Math.max(...sizes) * GAP_Y;
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  net.style.height = height + "px";
  for (let l = 1; l < sizes.length; l++) {
    for (let i = 0; i < sizes[l - 1]; i++) {
      for (let j = 0; j < sizes[l]; j++) svg.appendChild(edgeElement(l, i, j));
    }
  }
  sizes.forEach((n, column) => {
    for (let unit = 0; unit < n; unit++) net.appendChild(neuronElement(column, unit, sizes));
  });
}

function edgeElement(l, i, j) {
  const a = neuronPosition(l - 1, i), b = neuronPosition(l, j);
  const group = document.createElementNS("http://www.w3.org/2000/svg", "g");
  for (const cls of ["edge", "hit"]) {
    const line = document.createElementNS("http://www.w3.org/2000/svg", "line");
    line.setAttribute("x1", a.x + SIZE); line.setAttribute("y1", a.y + SIZE / 2);
    line.setAttribute("x2", b.x); line.setAttribute("y2", b.y + SIZE / 2);
    line.setAttribute("class", cls);
    line.dataset.key = `${l},${i + 1},${j + 1}`;
    group.appendChild(line);
  }
  const key = `${l},${i + 1},${j + 1}`;
  group.id = `edge-${key}`;
  group.onmouseenter = () => { state.hover = { l, i, j }; };
  group.onmousemove = (event) => showTooltip(event);
  group.onmouseleave = () => { state.hover = null; $("tooltip").hidden = true; };
  group.onclick = () => select({ kind: "edge", key });
  return group;
}

function neuronElement(column, unit, sizes) {
  const canvas = document.createElement("canvas");
  const p = neuronPosition(column, unit);
  canvas.className = "neuron" + (column === sizes.length - 1 ? " output" : "");
  canvas.width = canvas.height = 25;
  canvas.style.left = p.x + "px";
  canvas.style.top = p.y + "px";
  canvas.id = `neuron-${column},${unit + 1}`;
  canvas.dataset.column = column;
  canvas.title = column === 0 ? `input ${state.settings.features[unit]}`
                              : `layer ${column}, unit ${unit + 1}: its output over the plane`;
  if (column > 0) canvas.onclick = () => select({ kind: "neuron", key: `${column},${unit + 1}` });
  return canvas;
}

function edgeText(l, i, j) {
  const f = state.frame;
  if (!f) return "";
  const w = f.weights[l - 1][i][j], g = f.grads[l - 1][i][j];
  return `W${l}[${i + 1},${j + 1}] = ${fmt(w)}\n∂L/∂w (last step) = ${fmt(g)}`;
}

function showTooltip(event) {
  const tip = $("tooltip");
  if (!state.hover) return;
  tip.textContent = edgeText(state.hover.l, state.hover.i, state.hover.j);
  tip.style.left = event.clientX + 14 + "px";
  tip.style.top = event.clientY + 10 + "px";
  tip.hidden = false;
}

function fmt(v) {
  return v === null || v === undefined ? "NaN" : Number(v).toFixed(4);
}

function colour(t) {
  // t in [0, 1]: orange (0) → white (0.5) → blue (1)
  const [end, s] = t < 0.5 ? [NEG, 1 - 2 * t] : [POS, 2 * t - 1];
  return end.map((c) => Math.round(255 + (c - 255) * s));
}

function paintBytes(canvas, b64, size) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(size, size);
  for (let k = 0; k < bytes.length; k++) {
    const [r, g, b] = colour(bytes[k] / 255);
    image.data.set([r, g, b, 255], 4 * k);
  }
  if (canvas.width !== size) { canvas.width = canvas.height = size; }
  ctx.putImageData(image, 0, 0);
}

function paintCurve(canvas, curve) {
  const ctx = canvas.getContext("2d");
  canvas.width = canvas.height = 25;
  ctx.fillStyle = "white"; ctx.fillRect(0, 0, 25, 25);
  ctx.strokeStyle = "#333"; ctx.beginPath();
  curve.forEach((v, k) => {
    const x = (k / (curve.length - 1)) * 25, y = 12.5 - v * 11;
    k ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
  });
  ctx.stroke();
}

function drawNeurons(frame) {
  frame.neurons.forEach((column, c) => column.forEach((n, u) => {
    const canvas = $(`neuron-${c},${u + 1}`);
    if (!canvas) return;
    if (n.map) paintBytes(canvas, n.map, 25);
    else paintCurve(canvas, n.curve);
  }));
}

function drawEdges(frame) {
  const gradients = $("view").value === "gradients";
  const values = gradients ? frame.grads : frame.weights;
  let largest = 1e-12;
  if (gradients) values.forEach((W) => W.forEach((row) => row.forEach((v) => {
    largest = Math.max(largest, Math.abs(v || 0));
  })));
  values.forEach((W, l) => W.forEach((row, i) => row.forEach((v, j) => {
    const group = $(`edge-${l + 1},${i + 1},${j + 1}`);
    if (!group) return;
    const line = group.firstChild, size = Math.abs(v || 0);
    const width = gradients ? 0.3 + 7 * size / largest : Math.min(0.5 + 2.5 * size, 8);
    line.setAttribute("stroke-width", width.toFixed(2));
    line.setAttribute("stroke", gradients ? "#c2185b" : `rgb(${(v >= 0 ? POS : NEG).join(",")})`);
    line.setAttribute("stroke-opacity", gradients ? 0.8 : Math.min(0.25 + size, 1).toFixed(2));
  })));
}

// ---------------------------------------------------------------------------- output
function toCanvas(x, extent, size) { return ((x + extent) / (2 * extent)) * size; }

function drawPoints(ctx, size, extent) {
  const sets = [["train", true]];
  if ($("show-test").checked) sets.push(["test", false]);
  for (const [name, filled] of sets) {
    const set = state.points[name];
    set.x.forEach(([x1, x2], k) => {
      const c = set.t[k] >= 0.5 ? POS : NEG;
      ctx.beginPath();
      ctx.arc(toCanvas(x1, extent, size), size - toCanvas(x2, extent, size), 3, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${c.join(",")})`;
      ctx.strokeStyle = filled ? "#222" : "white";
      ctx.lineWidth = filled ? 0.8 : 1.5;
      ctx.fill(); ctx.stroke();
    });
  }
}

function drawBoundary(frame) {
  const canvas = $("boundary"), ctx = canvas.getContext("2d"), size = canvas.width;
  const b = frame.boundary;
  if (b.kind === "2d") {
    const small = document.createElement("canvas");
    paintBytes(small, b.values, b.size);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(small, 0, 0, size, size);
    if (state.points) drawPoints(ctx, size, b.extent);
  } else {
    drawRegression(ctx, size, b);
  }
}

function drawRegression(ctx, size, b) {
  const p = state.points;
  const ys = [...b.y, ...p.train.t, ...p.test.t].filter((v) => v !== null);
  const low = Math.min(...ys), high = Math.max(...ys), pad = 0.1 * (high - low || 1);
  const X = (x) => ((x - b.x[0]) / (b.x[b.x.length - 1] - b.x[0])) * size;
  const Y = (y) => size - ((y - low + pad) / (high - low + 2 * pad)) * size;
  ctx.fillStyle = "white"; ctx.fillRect(0, 0, size, size);
  ctx.strokeStyle = `rgb(${POS.join(",")})`; ctx.lineWidth = 2; ctx.beginPath();
  b.x.forEach((x, k) => (k ? ctx.lineTo(X(x), Y(b.y[k])) : ctx.moveTo(X(x), Y(b.y[k]))));
  ctx.stroke(); ctx.lineWidth = 1;
  const sets = $("show-test").checked ? ["train", "test"] : ["train"];
  for (const name of sets) {
    p[name].x.forEach(([x], k) => {
      ctx.beginPath(); ctx.arc(X(x), Y(p[name].t[k]), 3, 0, 2 * Math.PI);
      ctx.fillStyle = name === "train" ? `rgb(${NEG.join(",")})` : "white";
      ctx.fill(); ctx.strokeStyle = "black"; ctx.stroke();
    });
  }
}

function drawLossCurve() {
  const canvas = $("curve"), ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  const points = state.curve.filter((p) => p.loss !== null);
  if (points.length < 2) return;
  const high = Math.max(...points.map((p) => Math.max(p.loss, p.test ?? 0)), 1e-9);
  const last = points[points.length - 1].epoch || 1;
  for (const [key, colour] of [["loss", "#333"], ["test", "#c2185b"]]) {
    ctx.strokeStyle = colour; ctx.beginPath();
    points.forEach((p, k) => {
      const x = (p.epoch / last) * (w - 4) + 2, y = h - 2 - (p[key] / high) * (h - 6);
      k ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.stroke();
  }
}

function drawFrame(f) {
  $("epoch").textContent = String(f.epoch);
  $("loss").textContent = f.loss === null ? "NaN" : f.loss.toFixed(4);
  $("test-loss").textContent = f.test_loss === null ? "NaN" : f.test_loss.toFixed(4);
  $("speed").textContent = String(Math.round(f.steps_per_second));
  $("train").textContent = f.running ? "❚❚ pause" : "▶ train";
  const last = state.curve[state.curve.length - 1];
  if (!last || last.epoch !== f.epoch) state.curve.push({ epoch: f.epoch, loss: f.loss, test: f.test_loss });
  if (last && f.epoch < last.epoch) state.curve = [{ epoch: f.epoch, loss: f.loss, test: f.test_loss }];
  drawBoundary(f);
  drawNeurons(f);
  drawEdges(f);
  drawLossCurve();
  if (state.hover) $("tooltip").textContent = edgeText(state.hover.l, state.hover.i, state.hover.j);
}

setInterval(() => {   // screen updates in the last second
  const now = performance.now();
  state.frames = state.frames.filter((t) => now - t < 1000);
  $("fps").textContent = String(state.frames.length);
}, 500);

// ---------------------------------------------------------------------------- inspector
function select(target) {
  state.selected = target;
  for (const el of document.querySelectorAll(".neuron.selected")) el.classList.remove("selected");
  if (target.kind === "neuron") $(`neuron-${target.key}`).classList.add("selected");
  inspect();
}

function inspect() {
  send({ type: "inspect", split: $("sample-split").value, index: Number($("sample-index").value) });
}

function showInspection() {
  const m = state.inspection, target = state.selected;
  $("sample-info").textContent = `x = [${m.x.map(fmt).join(", ")}], target t = ${fmt(m.target[0])}, ` +
                                 `loss on it = ${fmt(m.loss)}`;
  $("worked").textContent = m.text;
  if (target) {
    const lines = (target.kind === "neuron" ? m.neurons : m.edges)[target.key] || [];
    const [l, i, j] = target.key.split(",");
    $("inspect-title").textContent = target.kind === "neuron" ? `layer ${l}, unit ${i}`
      : `edge W${l}[${i},${j}]: unit ${i} of layer ${l - 1} → unit ${j} of layer ${l}`;
    $("inspect-lines").innerHTML = "";
    for (const text of lines) {
      const div = document.createElement("div");
      div.textContent = text;
      $("inspect-lines").appendChild(div);
    }
  }
  showStage();
}

function showStage() {
  const m = state.inspection;
  if (!m) return;
  state.stage = Math.max(0, Math.min(state.stage, m.stages.length - 1));
  const stage = m.stages[state.stage];
  $("walk-stage").textContent = `${state.stage + 1}/${m.stages.length}: ${stage.phase}` +
                                (stage.column === null ? "" : ` (layer ${stage.column})`);
  $("walk-lines").innerHTML = "";
  for (const text of stage.lines) {
    const div = document.createElement("div");
    div.textContent = text;
    $("walk-lines").appendChild(div);
  }
  for (const el of document.querySelectorAll(".neuron")) {
    el.classList.toggle("stage", stage.column !== null && Number(el.dataset.column) === stage.column);
  }
}

// ---------------------------------------------------------------------------- upload, wiring
async function upload(file) {
  if (file.size > MAX_CSV_BYTES) {
    showError(`csv: the file has ${file.size} bytes; at most ${MAX_CSV_BYTES} are accepted`);
    return;
  }
  const response = await fetch(`/api/csv/${state.session}`, { method: "POST", body: await file.text(),
                                                              headers: { "Content-Type": "text/csv" } });
  const reply = await response.json();
  if (!response.ok) { showError(reply.error); return; }
  $("dataset").value = "csv";
  changed();
}

function wire() {
  $("features").innerHTML = FEATURES.map((f) =>
    `<label><input type="checkbox" value="${f}"> ${f}</label>`).join("");
  for (const id of Object.keys(FIELDS)) {
    if (id !== "dataset") $(id).addEventListener("change", changed);
  }
  $("dataset").addEventListener("change", onDatasetChange);
  $("features").addEventListener("change", changed);
  $("train").onclick = () => send({ type: "train", on: !state.running });
  $("step").onclick = () => send({ type: "step" });
  $("reset").onclick = () => { state.curve = []; send({ type: "reset" }); };
  $("add-layer").onclick = () => setLayers((layers) => {
    if (layers.length < MAX_LAYERS) layers.push({ units: 4, activation: "tanh", init: "xavier_uniform",
                                                  dropout: 0, batchnorm: false });
  });
  $("remove-layer").onclick = () => setLayers((layers) => layers.pop());
  $("view").onchange = () => state.frame && drawEdges(state.frame);
  $("show-test").onchange = () => state.frame && drawBoundary(state.frame);
  $("sample-split").onchange = inspect;
  $("sample-index").onchange = inspect;
  $("walk-next").onclick = () => {
    if (state.inspection) { state.stage += 1; showStage(); } else { state.stage = 0; inspect(); }
  };
  $("walk-prev").onclick = () => { state.stage -= 1; showStage(); };
  $("csv").onchange = (event) => event.target.files[0] && upload(event.target.files[0]);
  $("share").onclick = () => {
    $("share-url").value = location.href;
    $("share-url").select();
    if (navigator.clipboard) navigator.clipboard.writeText(location.href).catch(() => {});
  };
  window.addEventListener("hashchange", () => send({ type: "settings", query: location.hash.slice(1) }));
}

wire();
connect();
