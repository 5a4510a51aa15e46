/**
 * The transcript page's client, inlined as one script (the page must work opened from a presigned URL, so it
 * makes no request of its own but the audio and, on the local server, the rename).
 *
 * How it stays fast on a 4-hour transcript (~40k words, ~3000 turns):
 * - Windowing: the turns are grouped in chunks of ~160 words. Every chunk is an empty box of its estimated
 *   (later measured) height until an IntersectionObserver sees it within 1.5 screens of the view; then its
 *   words are built, and when it leaves that margin they are dropped again. The DOM holds a few chunks
 *   whatever the length; the browser's scroll anchoring keeps the view still when an estimate is corrected.
 * - The current word is found by binary search on the word starts (an Int32Array), once per frame while
 *   playing, and only a class on two elements changes.
 * - One listener per area (transcript, timeline, legend), never one per word.
 * - Names and words are set as text (textContent), never as markup.
 *
 * Plain ES2020 kept free of backticks and dollar-brace so it can live in this template literal; the unit
 * tests parse it.
 */
export const CLIENT_SCRIPT = String.raw`
(function () {
"use strict";
var $ = function (id) { return document.getElementById(id); };
var page = JSON.parse($("stt-data").textContent);
var model = page.model, mode = page.mode;
var text = model.words.text, N = text.length;
var starts = Int32Array.from(model.words.start), ends = Int32Array.from(model.words.end);
var turnSpeaker = model.turns.speaker, turnFirst = model.turns.first, T = turnSpeaker.length;
var speakers = model.speakers;
var durationMs = Math.max(1, Math.round(model.duration * 1000));
var audio = $("audio"), main = $("transcript"), statusEl = $("status");
var canRename = mode.kind === "server" && !!mode.renameUrl;
performance.mark("stt:script");

// ---------- small helpers ----------
function el(tag, cls, txt) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (txt !== undefined) e.textContent = txt;
  return e;
}
function clock(ms) {
  var s = Math.max(0, Math.floor(ms / 1000)), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  s = s % 60;
  return (h > 0 ? h + ":" + (m < 10 ? "0" : "") : "") + m + ":" + (s < 10 ? "0" : "") + s;
}
function nameOf(s) { return s < 0 ? "" : (speakers[s].name || speakers[s].id); }
function colourClass(s) { return s < 0 ? "snone" : "s" + (s % 10); }
function say(message, isError) {
  statusEl.textContent = message;
  statusEl.className = "status" + (isError ? " error" : "");
}
// Last index i with arr[i] <= x, or -1.
function lastAtOrBefore(arr, x, n) {
  var lo = 0, hi = n - 1, found = -1;
  while (lo <= hi) {
    var mid = (lo + hi) >> 1;
    if (arr[mid] <= x) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
  }
  return found;
}

// ---------- header: meta and downloads ----------
$("meta").textContent = [clock(durationMs), model.language || "", speakers.length ? speakers.length + (speakers.length === 1 ? " speaker" : " speakers") : "",
  N.toLocaleString("en") + " words" + (model.approximate ? " (approximate times)" : "")].filter(Boolean).join(" \u00b7 ");
var downloads = $("downloads");
var outputs = null;
page.formats.forEach(function (f) {
  var a = el("a", "", f.label);
  a.download = f.file;
  a.title = "Download " + f.file;
  a.dataset.format = f.format;
  if (mode.kind === "server") a.href = mode.downloads[f.format];
  else a.href = "#";
  downloads.appendChild(a);
});
if (mode.kind === "static") {
  // The five files are in the page: each becomes a Blob URL when first asked for.
  downloads.addEventListener("click", function (ev) {
    var a = ev.target.closest("a[data-format]");
    if (!a || a.dataset.ready) return;
    ev.preventDefault();
    if (!outputs) outputs = JSON.parse($("stt-outputs").textContent);
    var f = page.formats.filter(function (x) { return x.format === a.dataset.format; })[0];
    a.href = URL.createObjectURL(new Blob([outputs[f.format]], { type: f.type }));
    a.dataset.ready = "1";
    a.click();
  });
}

// ---------- audio source ----------
var local = $("local"), localFile = $("local-file");
function useLocalCopy(reason) {
  local.hidden = false;
  if (reason) say(reason, false);
}
function sourceFromFragment() {
  var m = /(?:^#|&)audio=([^&]*)/.exec(location.hash);
  if (!m) return null;
  var url;
  try { url = decodeURIComponent(m[1]); } catch (e) { return null; }
  return /^(https?:|blob:)/i.test(url) ? url : null;
}
if (mode.kind === "server") {
  audio.src = mode.audioUrl;
} else {
  var fromFragment = sourceFromFragment();
  if (fromFragment) audio.src = fromFragment;
  else useLocalCopy("No recording linked (#audio=<url>): choose a local copy to play.");
  window.addEventListener("hashchange", function () {
    var next = sourceFromFragment();
    if (next) { audio.src = next; local.hidden = true; say("", false); }
  });
}
audio.addEventListener("error", function () {
  if (audio.getAttribute("src")) useLocalCopy("The recording could not be loaded: choose a local copy to play.");
});
localFile.addEventListener("change", function () {
  var file = localFile.files && localFile.files[0];
  if (!file) return;
  audio.src = URL.createObjectURL(file);
  say("Playing " + file.name, false);
});

// ---------- chunks (windowing) ----------
var CHUNK_WORDS = 160;
var chunkFirstTurn = [0];
(function () {
  var count = 0;
  for (var t = 0; t < T; t++) {
    var n = turnFirst[t + 1] - turnFirst[t];
    if (count > 0 && count + n > CHUNK_WORDS) { chunkFirstTurn.push(t); count = 0; }
    count += n;
  }
  if (T > 0) chunkFirstTurn.push(T);
})();
var C = T > 0 ? chunkFirstTurn.length - 1 : 0;
var chunkFirstWord = new Int32Array(C);
for (var c0 = 0; c0 < C; c0++) chunkFirstWord[c0] = turnFirst[chunkFirstTurn[c0]];
function chunkOfWord(i) { return lastAtOrBefore(chunkFirstWord, i, C); }

var turnChars = new Int32Array(T);
for (var t0 = 0; t0 < T; t0++) {
  var chars = 0;
  for (var i0 = turnFirst[t0]; i0 < turnFirst[t0 + 1]; i0++) chars += text[i0].length + 1;
  turnChars[t0] = chars;
}
// Height estimate: a turn is a header line plus its words' lines; scaled by what rendered chunks measured.
var metrics = { charW: 8.3, lineH: 27, headH: 22, gapH: 22, width: 700 };
var measuredSum = 0, estimatedSum = 0;
var chunkEls = [], measured = new Float64Array(C), rendered = new Map();
function rawEstimate(c) {
  var perLine = Math.max(10, Math.floor(metrics.width / metrics.charW)), h = 0;
  for (var t = chunkFirstTurn[c]; t < chunkFirstTurn[c + 1]; t++) {
    h += metrics.headH + metrics.gapH + Math.max(1, Math.ceil(turnChars[t] / perLine)) * metrics.lineH;
  }
  return h;
}
function estimate(c) {
  var ratio = estimatedSum > 0 ? measuredSum / estimatedSum : 1;
  return Math.round(rawEstimate(c) * ratio);
}
function measureBasics() {
  var probe = el("div", "chunk");
  var turn = el("div", "turn snone");
  turn.appendChild(el("div", "who", "x"));
  var p = el("p", "words");
  var sample = [];
  for (var i = 0; i < Math.min(N, 400); i++) sample.push(text[i]);
  p.textContent = sample.join(" ") || "sample";
  turn.appendChild(p);
  probe.appendChild(turn);
  probe.style.visibility = "hidden";
  main.appendChild(probe);
  var lineH = parseFloat(getComputedStyle(p).lineHeight) || 27;
  var width = p.clientWidth || 700;
  var span = el("span", "", p.textContent);
  p.textContent = "";
  p.appendChild(span);
  var oneLine = el("span", "", "x");
  p.appendChild(oneLine);
  var lines = Math.max(1, Math.round(span.getClientRects().length));
  var totalWidth = 0;
  var rects = span.getClientRects();
  for (var r = 0; r < rects.length; r++) totalWidth += rects[r].width;
  metrics.lineH = lineH;
  metrics.width = width;
  metrics.charW = Math.max(4, totalWidth / Math.max(1, span.textContent.length));
  metrics.headH = turn.firstChild.offsetHeight || 20;
  var ts = getComputedStyle(turn);
  metrics.gapH = (parseFloat(ts.marginTop) || 0) + (parseFloat(ts.marginBottom) || 0) + (parseFloat(ts.paddingTop) || 0) + (parseFloat(ts.paddingBottom) || 0);
  main.removeChild(probe);
  return lines;
}

var hitMask = new Uint8Array(N), hits = [], hitLen = 0, hitIndex = -1;
var current = -1;

function buildChunk(c) {
  var frag = document.createDocumentFragment(), wordEls = [];
  for (var t = chunkFirstTurn[c]; t < chunkFirstTurn[c + 1]; t++) {
    var s = turnSpeaker[t], first = turnFirst[t], last = turnFirst[t + 1];
    var turn = el("div", "turn " + colourClass(s));
    turn.dataset.t = t;
    var who = el("div", "who");
    if (s >= 0) {
      var name = el(canRename ? "button" : "span", "name", nameOf(s));
      name.dataset.s = s;
      if (canRename) { name.type = "button"; name.title = "Rename " + speakers[s].id; }
      who.appendChild(name);
    }
    var at = el("span", "at", clock(starts[first]));
    at.dataset.i = first;
    who.appendChild(at);
    turn.appendChild(who);
    var p = el("p", "words");
    for (var i = first; i < last; i++) {
      var w = el("span", "w", text[i]);
      w.dataset.i = i;
      if (hitMask[i]) w.classList.add("hit");
      if (i === current) w.classList.add("current");
      if (hitIndex >= 0 && i >= hits[hitIndex] && i < hits[hitIndex] + hitLen) w.classList.add("hit-cur");
      wordEls.push(w);
      p.appendChild(w);
      if (i + 1 < last) p.appendChild(document.createTextNode(" "));
    }
    turn.appendChild(p);
    frag.appendChild(turn);
  }
  return { frag: frag, words: wordEls };
}
function renderChunk(c) {
  var r = rendered.get(c);
  if (r) return r;
  var built = buildChunk(c), box = chunkEls[c];
  box.replaceChildren(built.frag);
  box.style.height = "";
  r = { words: built.words, first: chunkFirstWord[c] };
  rendered.set(c, r);
  return r;
}
// Empties a chunk that left the margin, keeping its height (measured by the caller before any change).
function dropChunk(c, h) {
  var box = chunkEls[c];
  measured[c] = h;
  box.style.height = h + "px";
  box.replaceChildren();
  rendered.delete(c);
}
function learn(c) {
  var h = chunkEls[c].offsetHeight;
  if (!measured[c]) { measuredSum += h; estimatedSum += rawEstimate(c); }
  measured[c] = h;
}
function wordEl(i) {
  if (i < 0 || i >= N) return null;
  var r = rendered.get(chunkOfWord(i));
  return r ? r.words[i - r.first] : null;
}

var observer = null;
function startWindowing() {
  if (C === 0) {
    main.appendChild(el("p", "empty", "No speech was found in this recording."));
    return;
  }
  measureBasics();
  var frag = document.createDocumentFragment();
  for (var c = 0; c < C; c++) {
    var box = el("div", "chunk");
    box.dataset.c = c;
    box.style.height = rawEstimate(c) + "px";
    chunkEls.push(box);
    frag.appendChild(box);
  }
  main.appendChild(frag);
  observer = new IntersectionObserver(function (entries) {
    var began = performance.now(), show = [], hide = [];
    entries.forEach(function (entry) {
      var c = +entry.target.dataset.c;
      if (entry.isIntersecting) { if (!rendered.has(c)) show.push(c); }
      else if (rendered.has(c)) hide.push(c);
    });
    if (!show.length && !hide.length) return;
    // All reads, then all writes, then the reads of what was built: two layouts, however many chunks.
    var heights = hide.map(function (c) { return chunkEls[c].offsetHeight; });
    hide.forEach(function (c, k) { dropChunk(c, heights[k]); });
    show.forEach(renderChunk);
    show.forEach(learn);
    if (show.length) reestimate();
    performance.measure("stt:window", { start: began, duration: performance.now() - began });
  }, { root: main, rootMargin: "150% 0px" });
  chunkEls.forEach(function (box) { observer.observe(box); });
}
// Boxes never measured take the corrected estimate; measured ones keep their height. Only when the
// correction moved by 1 % or more: each pass restyles every empty box.
var appliedRatio = 0;
function reestimate() {
  var ratio = estimatedSum > 0 ? measuredSum / estimatedSum : 1;
  if (appliedRatio && Math.abs(ratio - appliedRatio) < 0.01 * appliedRatio) return;
  appliedRatio = ratio;
  for (var c = 0; c < C; c++) {
    if (!rendered.has(c) && !measured[c]) chunkEls[c].style.height = estimate(c) + "px";
  }
}
var lastWidth = 0;
new ResizeObserver(function () {
  var width = main.clientWidth;
  if (!lastWidth) { lastWidth = width; return; }
  if (Math.abs(width - lastWidth) < 2) return;
  lastWidth = width;
  // Measured heights are for the old width: estimate again, and relearn from what renders next.
  measureBasics();
  measuredSum = 0; estimatedSum = 0; appliedRatio = 0;
  for (var c = 0; c < C; c++) {
    if (rendered.has(c)) learn(c); else measured[c] = 0;
  }
  reestimate();
}).observe(main);

// Brings word i into view, building its chunk first if needed.
function reveal(i, block) {
  if (i < 0 || i >= N) return;
  var c = chunkOfWord(i);
  if (!rendered.has(c)) { renderChunk(c); learn(c); }
  var w = wordEl(i);
  if (w) w.scrollIntoView({ block: block || "center" });
}
function isVisible(node) {
  var r = node.getBoundingClientRect(), m = main.getBoundingClientRect();
  return r.bottom > m.top + 8 && r.top < m.bottom - 8;
}

// ---------- playback and the current word ----------
var follow = $("follow");
var userScrollAt = 0;
["wheel", "touchmove", "keydown", "mousedown"].forEach(function (type) {
  main.addEventListener(type, function () { userScrollAt = performance.now(); }, { passive: true });
});
function setCurrent(i) {
  if (i === current) return;
  var old = wordEl(current);
  if (old) old.classList.remove("current");
  current = i;
  var w = wordEl(i);
  if (w) w.classList.add("current");
  if (i >= 0 && follow.checked && !audio.paused && performance.now() - userScrollAt > 4000) {
    if (!w || !isVisible(w)) reveal(i, "center");
  }
}
// The word being said at t seconds: the last one started, unless it ended over 1.5 s ago (a pause).
function highlightAt(seconds) {
  var ms = seconds * 1000;
  var i = lastAtOrBefore(starts, ms, N);
  if (i >= 0 && ms > ends[i] + 1500) i = -1;
  setCurrent(i);
  playhead.style.left = Math.min(100, (ms / durationMs) * 100) + "%";
  return i;
}
var ticking = false;
function tick() {
  if (audio.paused) { ticking = false; return; }
  highlightAt(audio.currentTime);
  requestAnimationFrame(tick);
}
audio.addEventListener("play", function () { if (!ticking) { ticking = true; requestAnimationFrame(tick); } });
["seeked", "timeupdate", "pause"].forEach(function (type) {
  audio.addEventListener(type, function () { highlightAt(audio.currentTime); });
});
function seek(seconds, play) {
  var canPlay = !!audio.getAttribute("src");
  if (canPlay) {
    try { audio.currentTime = seconds; } catch (e) { /* no metadata yet: the time is set when it comes */ }
    if (play) audio.play().catch(function () { /* autoplay refused or no source: the time is set */ });
  } else if (play) {
    useLocalCopy("Choose a local copy of the recording to play it.");
  }
  highlightAt(seconds);
}

// Clicks on the transcript: a word plays from its start, a time too, a name renames.
main.addEventListener("click", function (ev) {
  var target = ev.target;
  var name = target.closest(".who .name");
  if (name) { startRename(+name.dataset.s); return; }
  var word = target.closest(".w, .who .at");
  if (!word) return;
  var i = +word.dataset.i;
  seek(starts[i] / 1000, true);
});

// ---------- timeline ----------
var timeline = $("timeline");
var labels = el("div", "tl-labels"), tracks = el("div", "tl-tracks");
var laneCount = Math.max(1, speakers.length);
var laneLabels = [];
for (var s0 = 0; s0 < laneCount; s0++) {
  var label = el("span", colourClass(speakers.length ? s0 : -1), speakers.length ? nameOf(s0) : "Speech");
  laneLabels.push(label);
  labels.appendChild(label);
  var lane = el("div", "tl-lane " + colourClass(speakers.length ? s0 : -1));
  lane.dataset.lane = s0;
  tracks.appendChild(lane);
}
(function drawLanes() {
  // Turns closer than a pixel (of ~1500) merge into one bar: a few thousand bars at most.
  var joinMs = durationMs / 1500;
  var open = [];
  function flush(l) {
    var bar = open[l];
    if (!bar) return;
    var seg = el("div", "seg");
    seg.style.left = (bar.from / durationMs) * 100 + "%";
    seg.style.width = ((bar.to - bar.from) / durationMs) * 100 + "%";
    tracks.children[l].appendChild(seg);
    open[l] = null;
  }
  for (var t = 0; t < T; t++) {
    var l = Math.max(0, turnSpeaker[t]), from = starts[turnFirst[t]], to = ends[turnFirst[t + 1] - 1];
    var bar = open[l];
    if (bar && from - bar.to <= joinMs) { bar.to = Math.max(bar.to, to); continue; }
    flush(l);
    open[l] = { from: from, to: to };
  }
  for (var k = 0; k < laneCount; k++) flush(k);
})();
var axis = el("div", "tl-axis");
(function drawAxis() {
  var steps = [60, 300, 600, 900, 1800, 3600], step = steps[steps.length - 1];
  for (var k = 0; k < steps.length; k++) { if (durationMs / 1000 / steps[k] <= 8) { step = steps[k]; break; } }
  if (durationMs / 1000 < 60 * 4) step = durationMs / 1000 <= 40 ? 5 : durationMs / 1000 <= 120 ? 15 : 30;
  for (var at = 0; at * 1000 < durationMs; at += step) {
    var mark = el("span", "", clock(at * 1000));
    mark.style.left = ((at * 1000) / durationMs) * 100 + "%";
    axis.appendChild(mark);
  }
})();
var hitLayer = el("div", "tl-hits"), view = el("div", "tl-view"), playhead = el("div", "tl-head");
tracks.appendChild(axis);
tracks.appendChild(view);
tracks.appendChild(hitLayer);
tracks.appendChild(playhead);
timeline.appendChild(labels);
timeline.appendChild(tracks);
tracks.addEventListener("click", function (ev) {
  var tick = ev.target.closest(".tick");
  if (tick) { goToHit(+tick.dataset.h); return; }
  var r = tracks.getBoundingClientRect();
  var seconds = Math.max(0, Math.min(1, (ev.clientX - r.left) / r.width)) * durationMs / 1000;
  seek(seconds, false);
  var i = lastAtOrBefore(starts, seconds * 1000, N);
  if (i >= 0) reveal(i, "center");
});
// The part of the recording the transcript shows, as a box on the timeline.
var viewPending = false;
// The turn at the top (step > 0) or bottom (step < 0) of the view: the first one met from that edge inwards
// (the edge itself may be padding, or the gap between two turns).
function turnAtEdge(step) {
  var m = main.getBoundingClientRect(), x = m.left + m.width / 2;
  for (var y = step > 0 ? m.top + 2 : m.bottom - 2; y > m.top && y < m.bottom; y += step) {
    var hit = document.elementFromPoint(x, y), turn = hit && hit.closest(".turn");
    if (turn) return +turn.dataset.t;
  }
  return -1;
}
function updateView() {
  viewPending = false;
  if (!C) return;
  var a = turnAtEdge(12), b = turnAtEdge(-12);
  if (a < 0 || b < 0) return;
  var from = starts[turnFirst[a]], to = ends[turnFirst[b + 1] - 1];
  view.style.left = (from / durationMs) * 100 + "%";
  view.style.width = (Math.max(0, to - from) / durationMs) * 100 + "%";
}
main.addEventListener("scroll", function () {
  if (!viewPending) { viewPending = true; requestAnimationFrame(updateView); }
}, { passive: true });

// ---------- search ----------
var q = $("q"), count = $("count");
var norm = null;
function normalize(word) { return word.toLowerCase().replace(/[^\p{L}\p{N}']+/gu, ""); }
// The words as search compares them, made once: when the page is idle after loading, or by the first search.
function prepareSearch() {
  if (norm) return;
  norm = new Array(N);
  for (var i = 0; i < N; i++) norm[i] = normalize(text[i]);
}
function search(query) {
  var began = performance.now();
  prepareSearch();
  var tokens = query.split(/\s+/).map(normalize).filter(Boolean);
  var found = [];
  var k = tokens.length;
  if (k) {
    var last = tokens[k - 1];
    // Whole words, but the last one typed may be a prefix: "bud" finds "budget".
    for (var i2 = 0; i2 + k <= N; i2++) {
      var ok = true;
      for (var j = 0; j < k - 1 && ok; j++) ok = norm[i2 + j] === tokens[j];
      if (ok && norm[i2 + k - 1].lastIndexOf(last, 0) === 0) found.push(i2);
    }
  }
  applyHits(found, k);
  var ms = performance.now() - began;
  performance.measure("stt:search", { start: began, duration: ms });
  return { hits: found.length, ms: ms };
}
function applyHits(found, k) {
  markCurrentHit(false);
  rendered.forEach(function (r) { r.words.forEach(function (w, n) { if (hitMask[r.first + n]) w.classList.remove("hit"); }); });
  hitMask.fill(0);
  hits = found; hitLen = k; hitIndex = -1;
  for (var h = 0; h < hits.length; h++) for (var j = 0; j < k; j++) hitMask[hits[h] + j] = 1;
  rendered.forEach(function (r) { r.words.forEach(function (w, n) { if (hitMask[r.first + n]) w.classList.add("hit"); }); });
  // Timeline ticks, one per hit, merged when they fall on the same pixel (of ~1500).
  var frag = document.createDocumentFragment(), lastBucket = -1;
  for (var h2 = 0; h2 < hits.length; h2++) {
    var bucket = Math.floor((starts[hits[h2]] / durationMs) * 1500);
    if (bucket === lastBucket) continue;
    lastBucket = bucket;
    var t = el("div", "tick");
    t.dataset.h = h2;
    t.title = clock(starts[hits[h2]]);
    t.style.left = (starts[hits[h2]] / durationMs) * 100 + "%";
    frag.appendChild(t);
  }
  hitLayer.replaceChildren(frag);
  if (hits.length) {
    // The first hit at or after what is on screen (or the playing word).
    var from = current >= 0 ? current : firstVisibleWord();
    var next = 0;
    while (next < hits.length && hits[next] < from) next++;
    goToHit(next < hits.length ? next : 0);
  } else {
    showCount();
  }
}
function firstVisibleWord() {
  var t = turnAtEdge(12);
  return t >= 0 ? turnFirst[t] : 0;
}
function showCount() {
  count.textContent = q.value.trim() ? (hits.length ? (hitIndex + 1) + " of " + hits.length : "no matches") : "";
}
function markCurrentHit(on) {
  if (hitIndex < 0 || hitIndex >= hits.length) return;
  for (var j = 0; j < hitLen; j++) {
    var w = wordEl(hits[hitIndex] + j);
    if (w) w.classList.toggle("hit-cur", on);
  }
  var cur = hitLayer.querySelector(".tick.cur");
  if (cur) cur.remove();
  if (on) {
    var t = el("div", "tick cur");
    t.dataset.h = hitIndex;
    t.style.left = (starts[hits[hitIndex]] / durationMs) * 100 + "%";
    hitLayer.appendChild(t);
  }
}
function goToHit(h) {
  if (!hits.length) return;
  markCurrentHit(false);
  hitIndex = ((h % hits.length) + hits.length) % hits.length;
  reveal(hits[hitIndex], "center");
  markCurrentHit(true);
  showCount();
}
var searchTimer = 0;
q.addEventListener("input", function () {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(function () { search(q.value); }, 120);
});
q.addEventListener("keydown", function (ev) {
  if (ev.key === "Enter") {
    ev.preventDefault();
    clearTimeout(searchTimer);
    if (hitLen === 0 || !hits.length) search(q.value);
    else goToHit(hitIndex + (ev.shiftKey ? -1 : 1));
  } else if (ev.key === "Escape") {
    q.value = "";
    search("");
  }
});
$("next").addEventListener("click", function () { goToHit(hitIndex + 1); });
$("prev").addEventListener("click", function () { goToHit(hitIndex - 1); });
document.addEventListener("keydown", function (ev) {
  var typing = ev.target.closest && ev.target.closest("input, textarea, button, audio, select");
  if (ev.key === "/" && !typing) { ev.preventDefault(); q.focus(); q.select(); }
  else if (ev.key === " " && !typing) { ev.preventDefault(); if (audio.paused) audio.play().catch(function () {}); else audio.pause(); }
});

// ---------- speakers: legend and rename ----------
var legend = $("legend");
function drawLegend() {
  legend.replaceChildren();
  speakers.forEach(function (sp, s) {
    var li = el("li", colourClass(s));
    li.dataset.s = s;
    li.appendChild(el("span", "dot"));
    var name = el(canRename ? "button" : "span", "rename", nameOf(s));
    if (canRename) { name.type = "button"; name.title = "Rename " + sp.id; }
    li.appendChild(name);
    if (sp.name) li.appendChild(el("span", "label", sp.id));
    legend.appendChild(li);
  });
}
function applyNames(names) {
  speakers.forEach(function (sp) { sp.name = names[sp.id] || null; });
  drawLegend();
  laneLabels.forEach(function (label, s) { if (speakers.length) label.textContent = nameOf(s); });
  main.querySelectorAll(".who .name").forEach(function (n) { n.textContent = nameOf(+n.dataset.s); });
}
function startRename(s) {
  if (!canRename || !(s >= 0)) return;
  var li = legend.querySelector('li[data-s="' + s + '"]');
  if (!li || li.querySelector("input")) return;
  var button = li.querySelector(".rename");
  var input = el("input");
  input.type = "text";
  input.maxLength = 100;
  input.value = speakers[s].name || "";
  input.placeholder = speakers[s].id;
  input.setAttribute("aria-label", "Name for " + speakers[s].id);
  li.replaceChild(input, button);
  input.focus();
  input.select();
  var done = false;
  function finish(save) {
    if (done) return;
    done = true;
    var value = input.value.trim();
    if (!save || value === (speakers[s].name || "")) { drawLegend(); return; }
    input.disabled = true;
    saveName(s, value || null).then(drawLegend, drawLegend);
  }
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { ev.preventDefault(); finish(true); }
    else if (ev.key === "Escape") { ev.preventDefault(); finish(false); }
  });
  input.addEventListener("blur", function () { finish(true); });
}
function saveName(s, name) {
  var id = speakers[s].id;
  say("Saving the name of " + id + "...", false);
  return fetch(mode.renameUrl + encodeURIComponent(id), {
    method: "POST",
    headers: { "content-type": "application/json", "x-stt-token": mode.token },
    body: JSON.stringify({ name: name }),
  }).then(function (res) {
    return res.json().catch(function () { return {}; }).then(function (body) {
      if (!res.ok) { say(body.error || ("Could not rename " + id + " (HTTP " + res.status + ")"), true); return; }
      applyNames(body.speakerNames || {});
      say(name ? id + " is now " + name + " in every file" : id + " has no name again", false);
    });
  }, function () { say("Could not reach the viewer server to rename " + id, true); });
}
legend.addEventListener("click", function (ev) {
  var button = ev.target.closest("button.rename");
  if (button) startRename(+button.closest("li").dataset.s);
});
drawLegend();

// ---------- start ----------
startWindowing();
var firstVisible = C ? renderChunk(0) : null;
if (firstVisible) learn(0);
reestimate();
performance.mark("stt:rendered");
if (window.requestIdleCallback) requestIdleCallback(prepareSearch, { timeout: 3000 }); else setTimeout(prepareSearch, 500);
requestAnimationFrame(function () { setTimeout(function () { performance.mark("stt:painted"); }, 0); });
updateView();
highlightAt(0);

// For tests, benchmarks and the console: the same functions the page uses.
window.sttViewer = {
  words: N, turns: T, chunks: C,
  renderedChunks: function () { return rendered.size; },
  renderedWords: function () { var n = 0; rendered.forEach(function (r) { n += r.words.length; }); return n; },
  search: search,
  highlightAt: highlightAt,
  reveal: reveal,
  wordStart: function (i) { return starts[i] / 1000; },
};
})();
`;
