// image-mirror's read-only page: everything it shows comes from the /v1 views of this server.
"use strict";

const state = { next: null };

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
  return e;
}

function size(bytes) {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let v = bytes, u = 0;
  while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
  return (u === 0 ? String(v) : v.toPrecision(3).replace(/\.?0+$/, "")) + units[u];
}

// Ages as docker's CREATED column writes them (the CLI's HumanUnits): the coarsest unit that fits.
function ago(iso) {
  if (!iso) return "N/A";
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
  if (s < 1) return "Less than a second ago";
  if (s === 1) return "1 second ago";
  if (s < 60) return s + " seconds ago";
  const m = Math.floor(s / 60);
  if (m === 1) return "About a minute ago";
  if (m < 60) return m + " minutes ago";
  const h = Math.round(s / 3600);
  if (h === 1) return "About an hour ago";
  if (h < 48) return h + " hours ago";
  if (h < 24 * 7 * 2) return Math.floor(h / 24) + " days ago";
  if (h < 24 * 30 * 2) return Math.floor(h / 24 / 7) + " weeks ago";
  if (h < 24 * 365 * 2) return Math.floor(h / 24 / 30) + " months ago";
  return Math.floor(s / 3600 / 24 / 365) + " years ago";
}

async function getJson(url) {
  const r = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await r.json();
  if (!r.ok) {
    const m = body && body.errors && body.errors[0] ? body.errors[0].message : r.statusText;
    throw new Error(m);
  }
  return { body, link: r.headers.get("Link") };
}

function nextLink(link) {
  const m = link && /<([^>]+)>;\s*rel="next"/.exec(link);
  return m ? m[1] : null;
}

function sharingChart(u) {
  // What the images take stored: the stored bytes without those only dangling manifests hold.
  const used = Math.max(0, u.storedBytes - u.reclaimableBytes);
  const w = 640, h = 90, max = Math.max(u.unsharedBytes, used, 1);
  const bar = (y, v, color, label) => {
    const len = Math.max(2, Math.round((w - 260) * v / max));
    return `<rect x="170" y="${y}" width="${len}" height="22" rx="3" fill="${color}"></rect>`
      + `<text x="0" y="${y + 15}">${label}</text>`
      + `<text x="${176 + len}" y="${y + 15}">${size(v)}</text>`;
  };
  const pct = u.unsharedBytes > 0 ? Math.round(100 * u.savedBytes / u.unsharedBytes) : 0;
  document.getElementById("sharing-chart").innerHTML =
    `<svg width="${w}" height="${h}" role="img" aria-label="layer sharing saved ${size(u.savedBytes)}">`
    + bar(6, u.unsharedBytes, "#cbd5e1", "without layer sharing")
    + bar(36, used, "#2563eb", "stored, shared layers once")
    + `<text x="0" y="82">layer sharing saved ${size(u.savedBytes)} (${pct}%)</text></svg>`;
}

async function loadUsage() {
  const box = document.getElementById("usage");
  try {
    const { body: u } = await getJson("/v1/df");
    box.replaceChildren(
      ...[["repositories", u.repositories], ["images", u.images], ["tags", u.tags],
        ["manifests", u.manifests + " (" + u.dangling + " dangling)"], ["stored", size(u.storedBytes)],
        ["reclaimable", size(u.reclaimableBytes)], ["pulls served", u.pulls]]
        .map(([l, n]) => el("div", { class: "card" }, el("div", { class: "n" }, n), el("div", { class: "l" }, l))));
    sharingChart(u);
    loadCache(box);
  } catch (e) {
    box.replaceChildren(el("p", { class: "error" }, "storage: " + e.message));
  }
}

// Cache hits and misses since serve started, from its /metrics (Prometheus text); nothing when absent.
async function loadCache(box) {
  let text;
  try {
    const r = await fetch("/metrics");
    if (!r.ok) return;
    text = await r.text();
  } catch (e) {
    return;
  }
  const count = (kind, result) => {
    const re = new RegExp("^imagemirror_cache_lookups_total\\{(?=[^}]*kind=\"" + kind + "\")(?=[^}]*result=\""
      + result + "\")[^}]*\\} (\\S+)$", "m");
    const m = re.exec(text);
    return m ? Math.round(Number(m[1])) : 0;
  };
  const cards = [];
  for (const kind of ["manifest", "blob"]) {
    const hit = count(kind, "hit"), miss = count(kind, "miss");
    const ratio = hit + miss > 0 ? Math.round(100 * hit / (hit + miss)) + "%" : "–";
    cards.push([kind + " cache hits / misses", hit + " / " + miss + " (" + ratio + ")"]);
  }
  box.append(...cards.map(([l, n]) => el("div", { class: "card" }, el("div", { class: "n" }, n),
    el("div", { class: "l" }, l + " since start"))));
}

function imagesUrl() {
  const params = new URLSearchParams();
  params.set("n", "200");
  for (const f of document.getElementById("filter").value.split(/\s+/).filter(Boolean)) params.append("filter", f);
  if (document.getElementById("all").checked) params.set("all", "true");
  return "/v1/images?" + params.toString();
}

async function loadImages(url, append) {
  const tbody = document.querySelector("#images tbody");
  const err = document.getElementById("error");
  err.hidden = true;
  if (!append) tbody.replaceChildren();
  try {
    const { body, link } = await getJson(url);
    for (const i of body.images) {
      const tr = el("tr", { "data-ref": i.repository + (i.tag ? ":" + i.tag : "@" + i.digest) },
        el("td", {}, i.repository),
        i.tag ? el("td", {}, i.tag) : el("td", { class: "none" }, "<none>"),
        el("td", { class: "id", title: i.id }, i.id.replace(/^sha256:/, "").slice(0, 12)),
        el("td", { title: i.created || "" }, ago(i.created)),
        el("td", {}, size(i.size)),
        el("td", { title: i.mirroredAt }, ago(i.mirroredAt)));
      tr.addEventListener("click", () => showDetail(tr.getAttribute("data-ref"), !!i.tag));
      tbody.append(tr);
    }
    state.next = nextLink(link);
    document.getElementById("more").hidden = !state.next;
    document.getElementById("images").setAttribute("data-loaded", "true");
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
  }
}

async function showDetail(ref, tagged, scroll = true) {
  const section = document.getElementById("detail");
  section.hidden = false;
  document.getElementById("detail-title").textContent = (tagged ? "History of " : "Image ") + ref;
  const timeline = document.getElementById("timeline");
  timeline.replaceChildren();
  if (tagged) {
    try {
      const { body } = await getJson("/v1/images/" + encodeURI(ref) + "/history?n=100");
      for (const h of body.history) {
        timeline.append(el("li", {},
          el("span", { class: "when", title: h.time }, ago(h.time)), " ",
          el("span", { class: "cause" }, h.cause), el("br"),
          el("code", {}, h.from ? h.from.slice(7, 19) : "(created)"), " → ",
          el("code", {}, h.to ? h.to.slice(7, 19) : "(deleted)")));
      }
    } catch (e) {
      timeline.append(el("li", { class: "error" }, e.message));
    }
  }
  const box = document.getElementById("inspect");
  try {
    const { body: i } = await getJson("/v1/images/" + encodeURI(ref));
    const rows = [el("p", {}, "digest ", el("code", {}, i.digest), " · ", i.mediaType, " · ", size(i.size),
      " · pulls ", i.pulls, i.lastPulled ? " (last " + ago(i.lastPulled) + ")" : "")];
    if (i.platforms) {
      rows.push(el("ul", {}, ...i.platforms.map(p => el("li", { class: "platform" + (p.stored ? "" : " missing") },
        (p.platform || "(no platform)") + " ", el("code", {}, p.digest.slice(7, 19)),
        p.stored ? " " + size(p.size) : " not stored"))));
    }
    box.replaceChildren(...rows);
  } catch (e) {
    box.replaceChildren(el("p", { class: "error" }, e.message));
  }
  if (scroll) section.scrollIntoView();
}

// The sync rules and their last runs; the section stays hidden when there are none.
async function loadRules() {
  let rules;
  try {
    rules = (await getJson("/v1/rules")).body.rules;
  } catch (e) {
    return; // no /v1/rules here
  }
  if (!rules || rules.length === 0) return;
  const tbody = document.querySelector("#rules tbody");
  for (const r of rules.slice(0, 100)) {
    let run = null;
    try {
      run = (await getJson("/v1/rules/" + encodeURIComponent(r.name) + "/runs")).body.runs[0] || null;
    } catch (e) {
      run = null;
    }
    const t = run ? run.tags : {};
    const cells = run
      ? [el("td", { title: run.finished || run.started }, run.error ? "failed: " + run.error
          : (run.finished ? ago(run.finished) : "running since " + ago(run.started))),
         el("td", {}, t.listed), el("td", {}, t.selected), el("td", {}, t.changed), el("td", {}, t.unchanged),
         el("td", {}, t.deferred), el("td", { class: t.failed ? "error" : "" }, t.failed)]
      : [el("td", { colspan: "7", class: "muted" }, r.error ? "invalid: " + r.error : "not run yet")];
    tbody.append(el("tr", {}, el("td", {}, r.name), el("td", {}, r.source || ""), el("td", {}, r.schedule || ""),
      ...cells));
  }
  document.getElementById("rules-section").hidden = false;
}

// The last sweeps (not dry runs); the section stays hidden when there are none or no /v1/sweeps.
async function loadSweeps() {
  let sweeps;
  try {
    sweeps = (await getJson("/v1/sweeps")).body.sweeps.filter(w => !w.dryRun);
  } catch (e) {
    return;
  }
  if (!sweeps || sweeps.length === 0) return;
  const tbody = document.querySelector("#sweeps tbody");
  for (const w of sweeps.slice(0, 10)) {
    tbody.append(el("tr", {}, el("td", { title: w.finishedAt }, ago(w.finishedAt)), el("td", {}, w.manifestsDeleted),
      el("td", {}, w.blobsDeleted), el("td", {}, size(w.bytesReclaimed)),
      el("td", {}, (w.durationMillis / 1000).toFixed(1) + " s"), el("td", {}, w.pages)));
  }
  document.getElementById("sweeps-section").hidden = false;
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("filter-form").addEventListener("submit", ev => {
    ev.preventDefault();
    loadImages(imagesUrl(), false);
  });
  document.getElementById("more").addEventListener("click", () => state.next && loadImages(state.next, true));
  loadUsage();
  loadImages(imagesUrl(), false);
  loadRules();
  loadSweeps();
  // /ui/#REPO:TAG opens that tag's history (a link to share, and what the screenshot in docs/ shows)
  if (location.hash.length > 1) {
    const ref = decodeURIComponent(location.hash.slice(1));
    showDetail(ref, !ref.includes("@"), false);
  }
});
