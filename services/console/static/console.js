"use strict";
const out = document.getElementById("out"), line = document.getElementById("line");
const stateEl = document.getElementById("state"), evlist = document.getElementById("evlist");
const evon = document.getElementById("evon"), evfilter = document.getElementById("evfilter");
let history = [], pos = 0, nextId = 1, ws = null, ready = false;
const pending = new Map();

function print(text, cls) {
  const div = document.createElement("div");
  if (cls) div.className = cls;
  div.textContent = text;
  out.appendChild(div);
  out.scrollTop = out.scrollHeight;
}
function setState(up, text) {
  stateEl.textContent = text;
  stateEl.className = "state " + (up ? "up" : "down");
}
// ws or wss as the page itself was served (http or https behind a proxy), under the same path.
function socketUrl() {
  const url = new URL("ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.search = "";
  return url.href;
}
function send(msg) {
  if (!ws || ws.readyState !== WebSocket.OPEN) { print("not connected to the console service", "err"); return; }
  ws.send(JSON.stringify(msg));
}
function connect() {
  ws = new WebSocket(socketUrl());
  ws.onmessage = (e) => handle(JSON.parse(e.data));
  ws.onclose = (e) => {
    ready = false;
    if (e.code === 4401) { setState(false, "not authorized"); print("Session closed: " + (e.reason || "not authorized") + ". Open the console again from Odoo.", "err"); return; }
    if (e.code === 4403) { setState(false, "refused"); print("Refused: this page's address is not the console's own (see CONSOLE_PUBLIC_ORIGIN).", "err"); return; }
    setState(false, "disconnected, retrying…");
    setTimeout(connect, 2000);
  };
}
function handle(m) {
  if (m.type === "hello") {
    ready = true;
    history = m.history || []; pos = history.length;
    document.getElementById("user").textContent = m.user;
    showAsterisk(m.asterisk);
    sendEvents();
  } else if (m.type === "output") {
    pending.delete(m.id);
    if (m.text) print(m.text, m.ok ? "" : "err");
  } else if (m.type === "error") {
    pending.delete(m.id);
    print(m.text, "err");
  } else if (m.type === "status") {
    showAsterisk(m.asterisk);
  } else if (m.type === "matches") {
    completed(m);
  } else if (m.type === "event") {
    addEvent(m.headers);
  } else if (m.type === "skipped") {
    addEvent({Event: "(" + m.count + " events not shown: too many per second)"});
  }
}
function showAsterisk(a) {
  if (a && a.connected) setState(true, "Asterisk " + (a.version || "connected"));
  else setState(false, "Asterisk not connected" + (a && a.reason ? ": " + a.reason : ""));
}
function completed(m) {
  if (line.value !== m.line) return;  // typed on meanwhile
  if (!m.matches.length) return;
  const base = m.line.slice(0, m.line.length - m.word.length);
  if (m.matches.length === 1) { line.value = base + m.matches[0] + " "; return; }
  if (m.prefix.length > m.word.length) line.value = base + m.prefix;
  print(m.matches.join("  "), "info");
}
function addEvent(h) {
  const div = document.createElement("div");
  div.textContent = Object.entries(h).map(([k, v]) => k + ": " + v).join("\n");
  evlist.appendChild(div);
  while (evlist.childNodes.length > 500) evlist.removeChild(evlist.firstChild);
  evlist.scrollTop = evlist.scrollHeight;
}
function sendEvents() { send({type: "events", on: evon.checked, filter: evfilter.value}); }

document.getElementById("form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = line.value;
  line.value = "";
  print(document.getElementById("prompt").textContent + text, "cmd");
  if (!text.trim()) return;
  if (text.trim() === "clear") { out.textContent = ""; return; }
  if (history[history.length - 1] !== text) history.push(text);
  pos = history.length;
  const id = nextId++;
  pending.set(id, text);
  send({type: "command", id, line: text});
});
line.addEventListener("keydown", (e) => {
  if (e.key === "Tab") {
    e.preventDefault();
    send({type: "complete", id: nextId++, line: line.value});
  } else if (e.key === "ArrowUp") {
    e.preventDefault();
    if (pos > 0) line.value = history[--pos];
  } else if (e.key === "ArrowDown") {
    e.preventDefault();
    if (pos < history.length - 1) line.value = history[++pos]; else { pos = history.length; line.value = ""; }
  } else if (e.key === "l" && e.ctrlKey) {
    e.preventDefault();
    out.textContent = "";
  }
});
document.getElementById("clear").addEventListener("click", () => { out.textContent = ""; line.focus(); });
evon.addEventListener("change", sendEvents);
evfilter.addEventListener("input", sendEvents);
connect();
