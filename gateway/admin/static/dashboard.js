// The Switchboard dashboard: polls the admin API once a second and previews a live stream
// over WHEP (a plain fetch() exchange, no SDK).
"use strict";

const API = "/api/v1";
const POLL_MS = 1000;
let whepPrefix = "/whep";
let preview = null; // {pc, location, name}

function token() { return sessionStorage.getItem("switchboard-admin-token") || ""; }

async function api(method, path) {
  const headers = {};
  if (token()) headers["Authorization"] = "Bearer " + token();
  const response = await fetch(API + path, {method, headers});
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
    throw new Error(`${method} ${path}: ${response.status} ${detail}`);
  }
  return response.status === 204 ? null : response.json();
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "onclick") node.addEventListener("click", v);
    else if (v !== null && v !== undefined) node.setAttribute(k, v);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function bytes(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "kB", "MB", "GB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i += 1; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function bitrate(bps) { return bps ? `${(bps / 1000).toFixed(0)} kbit/s` : "0"; }
function age(since) { return `${Math.max(0, Math.round(Date.now() / 1000 - since))} s`; }
function short(id) { return id ? id.slice(0, 8) : ""; }

function fill(table, rows, columns) {
  const body = document.querySelector(`#${table} tbody`);
  body.replaceChildren();
  if (!rows.length) {
    body.append(el("tr", {}, el("td", {class: "empty", colspan: columns}, "none")));
  }
  for (const row of rows) body.append(row);
}

function sum(stats, field) {
  return Object.values(stats || {}).reduce((total, s) => total + (s[field] || 0), 0);
}

function streamRow(s) {
  const video = s.stats.video;
  const q = s.namespace === "default" ? "" : `?namespace=${encodeURIComponent(s.namespace)}`;
  const path = `/streams/${encodeURIComponent(s.name)}`;
  const actions = el("td", {},
    el("button", {type: "button", class: "preview", disabled: s.state === "live" ? null : "",
                  onclick: () => startPreview(s.name)}, "Preview"),
    s.recording_id
      ? el("button", {type: "button", class: "record-stop",
                      onclick: () => act("DELETE", `${path}/recording${q}`)}, "Stop recording")
      : el("button", {type: "button", class: "record", disabled: s.state === "live" ? null : "",
                      onclick: () => act("POST", `${path}/recording${q}`)}, "Record"),
    el("button", {type: "button", class: "danger",
                  onclick: () => confirm(`End stream ${s.name}?`) && act("DELETE", path + q)},
       "End"));
  return el("tr", {"data-stream": s.name, "data-state": s.state},
    el("td", {}, s.namespace === "default" ? s.name : `${s.namespace}/${s.name}`),
    el("td", {class: `state-${s.state}`}, s.state),
    el("td", {}, s.dialect),
    el("td", {}, s.tracks.map(t => t.codec).join(", ")),
    el("td", {}, `${bitrate(sum(s.stats, "bitrate_bps"))}, ${bytes(sum(s.stats, "bytes"))}`),
    el("td", {}, video ? `${video.width || "?"}x${video.height || "?"} @ ${video.fps} fps` : ""),
    el("td", {}, s.subscribers),
    el("td", {}, `${sum(s.stats, "nack_count")} / ${sum(s.stats, "pli_count")}`),
    actions);
}

function sessionRow(s) {
  const out = s.subscriptions.reduce((total, sub) => total + sum(sub.stats, "bytes"), 0);
  return el("tr", {"data-session": s.id},
    el("td", {title: s.id}, short(s.id)),
    el("td", {}, s.dialect),
    el("td", {}, s.remote || ""),
    el("td", {}, age(s.created_at)),
    el("td", {}, s.publishing.join(", ")),
    el("td", {}, s.subscriptions.map(sub => sub.streams.join("+")).join(", ")),
    el("td", {}, bytes(out)),
    el("td", {}, el("button", {type: "button", class: "danger",
      onclick: () => confirm("Close this session?") && act("DELETE", `/sessions/${s.id}`)},
      "Close")));
}

function roomRow(r) {
  return el("tr", {"data-room": r.name},
    el("td", {}, r.name),
    el("td", {}, r.members.map(m => m.member_id + (m.live ? " \u25cf" : "")).join(", ")),
    el("td", {}, r.live_streams.join(", ")));
}

function recordingRow(r) {
  return el("tr", {"data-recording": r.id},
    el("td", {title: r.id}, short(r.id)),
    el("td", {}, r.stream),
    el("td", {class: `state-${r.state}`}, r.state),
    el("td", {}, r.duration_ms === null ? age(r.started_at) : `${(r.duration_ms / 1000).toFixed(1)} s`),
    el("td", {}, bytes(r.size_bytes)),
    el("td", {}, r.delivery || ""),
    el("td", {}, r.path || r.error || ""));
}

async function act(method, path) {
  try { await api(method, path); await refresh(); }
  catch (e) { showError(e); }
}

function showError(e) { document.getElementById("error").textContent = e ? String(e.message || e) : ""; }

async function refresh() {
  const [status, streams, sessions, rooms, recordings] = await Promise.all([
    api("GET", "/status"), api("GET", "/streams"), api("GET", "/sessions"),
    api("GET", "/rooms"), api("GET", "/recordings")]);
  document.getElementById("node").textContent = `node ${status.node_id}, up ${status.uptime_s} s`;
  document.getElementById("summary").textContent =
    `${status.live_streams} live of ${status.streams} streams \u00b7 ${status.sessions} sessions ` +
    `\u00b7 ${status.rooms} rooms \u00b7 ${status.recordings} recording`;
  fill("streams", streams.streams.map(streamRow), 9);
  fill("sessions", sessions.sessions.map(sessionRow), 8);
  fill("rooms", rooms.rooms.map(roomRow), 3);
  fill("recordings", recordings.recordings.slice().reverse().map(recordingRow), 7);
  showError(null);
}

async function findWhep() {
  try {
    const {dialects} = await api("GET", "/dialects");
    for (const d of dialects) {
      for (const r of d.routes) {
        const m = r.method === "POST" && r.path.match(/^(.*whep[^/]*)\/\{[a-z_]+\}$/);
        if (m) { whepPrefix = m[1]; return; }
      }
    }
  } catch (e) { /* keep the default */ }
}

// -- WHEP preview -----------------------------------------------------------------------------

function gathered(pc, timeoutMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === "complete") resolve(); };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, timeoutMs);
  });
}

async function stopPreview() {
  const current = preview;
  preview = null;
  document.getElementById("preview-panel").hidden = true;
  document.getElementById("preview").srcObject = null;
  if (!current) return;
  current.pc.close();
  if (current.location) {
    try { await fetch(current.location, {method: "DELETE"}); } catch (e) { /* gone already */ }
  }
}

async function startPreview(name) {
  await stopPreview();
  const pc = new RTCPeerConnection({iceServers: []});
  preview = {pc, location: null, name};
  const media = new MediaStream();
  const video = document.getElementById("preview");
  video.srcObject = media;
  pc.addTransceiver("video", {direction: "recvonly"});
  pc.addTransceiver("audio", {direction: "recvonly"});
  pc.ontrack = (event) => { media.addTrack(event.track); video.play().catch(() => {}); };
  pc.onconnectionstatechange = () => {
    document.getElementById("preview-state").textContent = pc.connectionState;
  };
  document.getElementById("preview-name").textContent = name;
  document.getElementById("preview-panel").hidden = false;
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, 2000);
    const response = await fetch(`${whepPrefix}/${encodeURIComponent(name)}`, {
      method: "POST", headers: {"Content-Type": "application/sdp"}, body: pc.localDescription.sdp});
    if (response.status !== 201) throw new Error(`WHEP ${response.status}: ${await response.text()}`);
    const location = response.headers.get("Location");
    if (preview && preview.pc === pc) preview.location = location && new URL(location, document.baseURI).href;
    await pc.setRemoteDescription({type: "answer", sdp: await response.text()});
  } catch (e) {
    showError(e);
    await stopPreview();
  }
}

// What the preview decoded so far (also for automated checks).
window.previewStats = async () => {
  if (!preview) return null;
  let result = {framesDecoded: 0, width: 0, height: 0, state: preview.pc.connectionState};
  (await preview.pc.getStats()).forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === "video") {
      result = {...result, framesDecoded: r.framesDecoded || 0,
                width: r.frameWidth || 0, height: r.frameHeight || 0};
    }
  });
  return result;
};

// -- start -----------------------------------------------------------------------------------

document.getElementById("preview-stop").addEventListener("click", stopPreview);
document.getElementById("auth").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("switchboard-admin-token", document.getElementById("token").value);
  findWhep().then(refresh).catch(showError);
});

async function loop() {
  try { await refresh(); } catch (e) { showError(e); }
  setTimeout(loop, POLL_MS);
}

findWhep().finally(loop);
