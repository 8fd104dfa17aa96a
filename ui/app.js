// The dashboard: renders what the engine pushes. No business logic here: every number, chart
// and status text comes from the Rust side (the same library functions the CLI uses).
"use strict";

const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;

const $ = (id) => document.getElementById(id);
const number = new Intl.NumberFormat("en-US");
let lastView = null;
const shown = new Map();

// The window's views, in the navigation's order. Each is a `<section class="view"
// data-view="…">` in index.html; `filters`: the filter bar narrows what it shows. A view's own
// code loads its data on the section's `view-shown` event (again after the range or the
// filters change, for a view with `filters`).
const VIEWS = [
  { id: "dashboard", label: "Dashboard", filters: true },
  { id: "funnels", label: "Funnels", filters: true, title: "Ordered steps, the drop-off between them, and for whom" },
  { id: "alerts", label: "Alerts", title: "Alert rules: get notified when a metric crosses a threshold" },
  { id: "retention", label: "Retention", filters: true, title: "Who comes back: cohorts by their first event, and each period after" },
  { id: "people", label: "People", filters: true, title: "Events as they land (refused ones too), and each person's history" },
  { id: "sql", label: "SQL", title: "Ask the stored events in ClickHouse SQL (read-only); save queries" },
  { id: "connect", label: "Connect", title: "Send events from your product's Segment or PostHog SDK; event aliases" },
];
let currentView = VIEWS[0];

// Opens view `id` (an unknown one, e.g. from a newer version's settings: the dashboard);
// `remember`: the next launch opens it too.
function showView(id, remember) {
  currentView = VIEWS.find((v) => v.id === id) || VIEWS[0];
  document.body.dataset.view = currentView.id;
  for (const view of VIEWS) {
    $(`view-${view.id}`).hidden = view !== currentView;
    const entry = $(`nav-${view.id}`);
    if (view === currentView) entry.setAttribute("aria-current", "page");
    else entry.removeAttribute("aria-current");
  }
  $("filters").hidden = !currentView.filters;
  $(`view-${currentView.id}`).dispatchEvent(new Event("view-shown"));
  if (remember) act("set_page", { page: currentView.id });
}

for (const view of VIEWS) {
  const entry = document.createElement("button");
  entry.id = `nav-${view.id}`;
  entry.textContent = view.label;
  if (view.title) entry.title = view.title;
  entry.addEventListener("click", () => showView(view.id, true));
  $("views").append(entry);
}

// After the range or the filters changed: the open view shows them too.
function rescoped() {
  if (currentView.filters) $(`view-${currentView.id}`).dispatchEvent(new Event("view-shown"));
}

const PRESETS = ["1h", "6h", "24h"];

// The header's time: the preset or "Custom…" selected, and a chip while it is not live.
function renderTime(view) {
  const span = !PRESETS.includes(view.range);
  for (const button of document.querySelectorAll("#ranges button")) {
    button.classList.toggle("selected", !span && button.dataset.range === view.range);
  }
  $("range-custom").classList.toggle("selected", span);
  $("time-live").hidden = !view.at;
  $("time-live").textContent = `${view.time_text} ✕`;
}

function render(view) {
  lastView = view;
  renderTime(view);
  renderStatus(view.status);
  renderFilters(view.panels.filters);
  $("empty").hidden = !view.empty;
  $("curl").textContent = view.ingest.curl;
  for (const id of ["demo", "demo-empty"]) {
    $(id).textContent = view.demo_running ? "Stop demo" : "Start demo traffic";
  }
  $("demo-campaign").hidden = view.demo_running;
  $("demo-menu").classList.toggle("running", view.demo_running);
  $("demo-menu").title = view.demo_running
    ? "Demo traffic is running"
    : "Demo traffic: realistic events sent to this instance";
  const p = view.panels;
  $("active-users-value").textContent = number.format(p.active_users.value);
  $("active-users-value").title = `${number.format(p.active_users.value)} distinct sessions in the last 5 minutes`;
  // The signup panel shows the chosen funnel instead of the hourly signups, when there is one.
  const funnel = view.funnel;
  $("funnel-title").textContent = funnel ? `Funnel: ${funnel.name}` : "Signup funnel";
  $("funnel-summary").textContent = funnel ? funnel.summary : view.summaries.signup_funnel;
  const charts = { ...view.charts, ...(funnel ? { signup_funnel: funnel.chart, funnel_trend: funnel.trend_chart } : {}) };
  $("panel-funnel_trend").hidden = !funnel;
  $("funnel-trend-name").textContent = funnel ? funnel.name : "";
  renderTopFeature(p.top_features);
  // Every panel the engine registered: a tile (the plain one when the page has no place for
  // it), its summary in `summary-<name>` and its chart in `chart-<name>`.
  for (const tile of view.tiles) {
    placeTile(tile);
    const summary = $(`summary-${tile.name}`);
    if (summary) summary.textContent = view.summaries[tile.name] || "";
  }
  for (const name of Object.keys(charts)) {
    // The engine's own plotters SVG (no scripts, escaped text): safe to place inline. Unchanged
    // charts are left alone so an idle dashboard costs the web process nothing.
    const chart = $(`chart-${name}`);
    if (shown.get(name) !== charts[name]) {
      chart.innerHTML = charts[name];
      shown.set(name, charts[name]);
    }
  }
  if (window.renderBoard) window.renderBoard(view);
  renderNotes(view.notes);
  updated();
}

// The filter bar shows the filters the engine applied (remembered across launches), unless
// the user is typing in it.
function renderFilters(filters) {
  const form = $("filters");
  form.classList.toggle("active", Object.keys(filters).length > 0);
  renderChips(filters);
  if (form.contains(document.activeElement)) return;
  $("filter-country").value = filters.country || "";
  $("filter-device").value = filters.device || "";
  const props = Object.entries(filters).filter(([name]) => name.startsWith("prop."));
  $("filter-props").value = wordsOf(Object.fromEntries(props));
}

// `key=value` words as the API's filter parameters: `country` and `device` as they are, any
// other key a property (`prop.key`). The filter bar's properties and the alert form use it.
function filterWords(text, keep = ["country", "device"]) {
  const filters = {};
  for (const word of text.trim().split(/\s+/).filter(Boolean)) {
    const at = word.indexOf("=");
    const key = at < 0 ? word : word.slice(0, at);
    const name = keep.includes(key) || key.startsWith("prop.") ? key : `prop.${key}`;
    filters[name] = at < 0 ? "" : word.slice(at + 1);
  }
  return filters;
}

// Filter parameters as `key=value` words (properties without their `prop.`).
function wordsOf(filters) {
  return Object.entries(filters)
    .map(([name, value]) => `${name.startsWith("prop.") ? name.slice(5) : name}=${value}`)
    .join(" ");
}

// The bar's fields as the API's parameters.
function filtersFromBar() {
  const filters = filterWords($("filter-props").value, []);
  const country = $("filter-country").value.trim();
  const device = $("filter-device").value.trim();
  if (country) filters.country = country;
  if (device) filters.device = device;
  return filters;
}

async function applyFilters(filters) {
  $("filters-message").className = "";
  $("filters-message").textContent = "";
  try {
    const view = await invoke("set_filters", { filters });
    document.activeElement.blur();
    render(view);
    rescoped();
  } catch (error) {
    $("filters-message").className = "error";
    $("filters-message").textContent = String(error);
  }
}

// What is applied, as chips: a filter typed but not applied has none. ✕ removes that one.
function renderChips(filters) {
  const chips = Object.entries(filters).map(([name, value]) => {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "chip";
    chip.dataset.filter = name;
    const label = name.startsWith("prop.") ? name.slice(5) : name;
    chip.textContent = `${label} = ${value} ✕`;
    chip.title = `Applied: ${name}=${value}. Click to remove this filter.`;
    chip.addEventListener("click", () => {
      const rest = { ...filters };
      delete rest[name];
      applyFilters(rest);
    });
    return chip;
  });
  $("filter-chips").replaceChildren(...chips);
}

// Suggestions while typing: the field's text with its last part completed by the keys and
// values the events carry (exact case, most events first). Country and device take
// comma-separated values; the properties field `key=value` words.
const SUGGEST_FIELDS = [
  { field: "filter-country", list: "suggest-country", ask: (part) => ({ key: "country", search: part }), sep: /,\s*/ },
  { field: "filter-device", list: "suggest-device", ask: (part) => ({ key: "device", search: part }), sep: /,\s*/ },
  {
    field: "filter-props",
    list: "suggest-props",
    sep: /\s+/,
    ask: (part) => {
      const at = part.indexOf("=");
      if (at < 0) return { key: null, search: "", keys: true };
      return { key: `prop.${part.slice(0, at)}`, search: part.slice(at + 1), prefix: part.slice(0, at + 1) };
    },
  },
];
for (const spec of SUGGEST_FIELDS) {
  let timer = null;
  const refresh = async () => {
    const text = $(spec.field).value;
    const parts = text.split(spec.sep);
    const part = parts[parts.length - 1];
    const before = text.slice(0, text.length - part.length);
    const asked = spec.ask(part);
    let found = [];
    try {
      found = await invoke("suggest", { key: asked.key, search: asked.search });
    } catch {
      return; // A key the engine refuses (a typo in progress): no suggestions, no noise.
    }
    const options = found.map((s) => {
      const option = document.createElement("option");
      const completed = asked.keys ? `${s.text}=` : `${asked.prefix || ""}${s.text}`;
      option.value = `${before}${completed}`;
      option.label = `${number.format(s.events)} events`;
      return option;
    });
    $(spec.list).replaceChildren(...options);
  };
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 200);
  };
  $(spec.field).addEventListener("input", later);
  $(spec.field).addEventListener("focus", later);
}

$("filters").addEventListener("submit", (event) => {
  event.preventDefault();
  applyFilters(filtersFromBar());
});
$("filters-clear").addEventListener("click", () => {
  for (const id of ["filter-country", "filter-device", "filter-props"]) $(id).value = "";
  applyFilters({});
});

function renderStatus(status) {
  $("status-dot").className = `dot ${status.level}`;
  $("status-label").textContent = status.label;
  $("status").title = status.text;
  // "profile: " gives way on a narrow window (style.css), the name stays.
  const word = document.createElement("span");
  word.className = "wide";
  word.textContent = "profile: ";
  $("profile").replaceChildren(word, status.profile);
  $("spilled").hidden = status.spilled === 0;
  $("spilled").textContent = `${number.format(status.spilled)} spilled`;
  $("spilled").title = `${number.format(status.spilled)} events waiting locally for ClickHouse`;
}

// The plain tile of a panel the page has no hand-made place for, in the registry's order.
function placeTile(tile) {
  if ($(`panel-${tile.name}`)) return;
  const article = document.createElement("article");
  article.className = "panel";
  article.id = `panel-${tile.name}`;
  const title = document.createElement("h2");
  const summary = document.createElement("small");
  summary.id = `summary-${tile.name}`;
  title.append(tile.title, " ", summary);
  const chart = document.createElement("div");
  chart.className = "chart";
  chart.id = `chart-${tile.name}`;
  article.append(title, chart);
  $("grid").append(article);
}

function renderTopFeature(rows) {
  const top = rows[0];
  $("top-feature").innerHTML = "";
  if (!top) return;
  const name = document.createElement("span");
  name.id = "top-feature-name";
  name.textContent = top.feature;
  const users = document.createElement("span");
  users.id = "top-feature-users";
  users.textContent = number.format(top.users);
  $("top-feature").append("top: ", name, " · ", users, " users");
}

function updated() {
  if (!lastView) return;
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(lastView.panels.generated_at)) / 1000));
  $("updated").textContent = seconds < 2 ? "updated just now" : `updated ${seconds} s ago`;
}

async function act(command, args) {
  try {
    const result = await invoke(command, args);
    if (result && result.panels) render(result);
    return result;
  } catch (error) {
    $("updated").textContent = String(error);
  }
}

// Picks the header's time (`set_time`); the open view follows. Errors show in the time menu.
async function pickTime(pick) {
  $("time-message").className = "";
  $("time-message").textContent = "";
  try {
    render(await invoke("set_time", { pick }));
    timeMenu(false);
    rescoped();
  } catch (error) {
    $("time-message").className = "error";
    $("time-message").textContent = String(error);
  }
}

// A preset keeps the "as of" instant of a preset; after a custom span it goes live.
for (const button of document.querySelectorAll("#ranges button")) {
  button.addEventListener("click", () => {
    const at = lastView && PRESETS.includes(lastView.range) ? lastView.at : null;
    pickTime({ kind: "preset", range: button.dataset.range, at });
  });
}
$("time-live").addEventListener("click", () => {
  const range = PRESETS.includes(lastView.range) ? lastView.range : "24h";
  pickTime({ kind: "preset", range, at: null });
});

// `datetime-local` fields hold local wall time without a zone: to and from UTC instants.
const UNIT_S = { s: 1, m: 60, h: 3600, d: 86400 };
function localField(ms) {
  return new Date(ms - new Date(ms).getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}
const instant = (field) => new Date($(field).value).toISOString();

// Opens the time menu on what is shown now: its span, and its end as the "as of" instant.
function timeMenu(open) {
  $("time-items").hidden = !open;
  $("range-custom").setAttribute("aria-expanded", String(open));
  if (!open || !lastView) return;
  const to = Date.parse(lastView.at || lastView.panels.generated_at);
  const seconds = parseInt(lastView.range, 10) * UNIT_S[lastView.range.slice(-1)];
  $("time-from").value = localField(to - seconds * 1000);
  $("time-to").value = localField(to);
  $("time-at").value = localField(to);
  $("time-message").textContent = "";
}
$("range-custom").addEventListener("click", () => timeMenu($("time-items").hidden));
$("time-items").addEventListener("submit", (event) => {
  event.preventDefault();
  pickTime({ kind: "span", from: instant("time-from"), to: instant("time-to") });
});
$("time-as-of").addEventListener("click", () => {
  if (!$("time-at").value) return;
  const range = PRESETS.includes(lastView.range) ? lastView.range : "24h";
  pickTime({ kind: "preset", range, at: instant("time-at") });
});

// The demo menu: opens under its button; a choice, Escape or a click elsewhere closes it.
function demoMenu(open) {
  $("demo-items").hidden = !open;
  $("demo-menu").setAttribute("aria-expanded", String(open));
}
$("demo-menu").addEventListener("click", () => demoMenu($("demo-items").hidden));
document.addEventListener("click", (event) => {
  const anchor = event.target.closest(".menu-anchor");
  if (!anchor || !anchor.contains($("demo-items"))) demoMenu(false);
  if (!anchor || !anchor.contains($("time-items"))) timeMenu(false);
  if (!anchor || !anchor.contains($("mark-items"))) markMenu(false);
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    demoMenu(false);
    timeMenu(false);
    markMenu(false);
  }
});
for (const id of ["demo", "demo-empty"]) {
  $(id).addEventListener("click", () => {
    demoMenu(false);
    return lastView && lastView.demo_running ? act("stop_demo") : act("start_demo", { scenario: "steady" });
  });
}
$("demo-campaign").addEventListener("click", () => {
  demoMenu(false);
  act("start_demo", { scenario: "campaign" });
});
// "Mark now…": a note at this instant, marked on every time chart.
function markMenu(open) {
  $("mark-items").hidden = !open;
  $("mark-menu").setAttribute("aria-expanded", String(open));
  if (open) $("mark-text").focus();
}
$("mark-menu").addEventListener("click", () => markMenu($("mark-items").hidden));
async function markNow() {
  try {
    render(await invoke("mark_now", { text: $("mark-text").value }));
    $("mark-text").value = "";
    $("mark-message").textContent = "";
    markMenu(false);
    rescoped();
  } catch (error) {
    $("mark-message").className = "error";
    $("mark-message").textContent = String(error);
  }
}
$("mark-save").addEventListener("click", markNow);

// The marks of the range in the Mark menu, newest first, each with a ✕ that deletes it.
let notesShown = "";
function renderNotes(notes) {
  const json = JSON.stringify(notes);
  if (json === notesShown) return;
  notesShown = json;
  const list = $("mark-list");
  list.innerHTML = "";
  for (const note of notes.slice().reverse()) {
    const item = document.createElement("li");
    item.id = `mark-${note.id}`;
    item.append(`${note.when} · ${note.text} `);
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "quiet";
    remove.id = `mark-delete-${note.id}`;
    remove.textContent = "✕";
    remove.title = "Delete this mark from every chart";
    remove.addEventListener("click", () => act("delete_annotation", { id: note.id }));
    item.append(remove);
    list.append(item);
  }
}
$("mark-text").addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault();
    markNow();
  }
});
$("save-png").addEventListener("click", async () => {
  const path = await act("save_png");
  if (typeof path === "string") $("updated").textContent = `saved ${path}`;
});
$("copy-curl").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText($("curl").textContent);
  } catch {
    // WebKitGTK may refuse the async clipboard on a custom scheme: fall back to a selection copy.
    const range = document.createRange();
    range.selectNodeContents($("curl"));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    document.execCommand("copy");
  }
  $("copy-curl").textContent = "Copied";
  setTimeout(() => ($("copy-curl").textContent = "Copy"), 1500);
});

// --- Profiles dialog (from the header's profile button): the list and the form; every action is a command over the library. ---

async function profileAction(command, args, done) {
  $("profiles-message").className = "";
  $("profiles-message").textContent = "…";
  try {
    const result = await invoke(command, args);
    if (result && result.profiles) renderProfiles(result);
    $("profiles-message").textContent = done(result);
  } catch (error) {
    $("profiles-message").className = "error";
    $("profiles-message").textContent = String(error);
  }
}

function renderProfiles(view) {
  const body = $("profiles-table").querySelector("tbody");
  body.innerHTML = "";
  for (const p of view.profiles) {
    const row = body.insertRow();
    row.id = `profile-row-${p.name}`;
    row.classList.toggle("running", p.name === view.running);
    for (const text of [p.name, p.url || "this machine", p.user || "", p.database || ""]) {
      row.insertCell().textContent = text;
    }
    const actions = row.insertCell();
    const button = (label, onClick) => {
      const b = document.createElement("button");
      b.textContent = label;
      b.id = `profile-${label.toLowerCase()}-${p.name}`;
      b.addEventListener("click", onClick);
      actions.append(b);
    };
    button("Test", () => profileAction("test_profile", { name: p.name }, (message) => message));
    if (p.name !== view.running) {
      button("Use", () => profileAction("use_profile", { name: p.name }, () => `now storing in ${p.name}`));
    }
    if (p.url) {
      button("Edit", () => {
        $("pf-name").value = p.name;
        $("pf-url").value = p.url;
        $("pf-user").value = p.user;
        $("pf-database").value = p.database;
        $("pf-password").value = "";
      });
      if (p.name !== view.running) {
        button("Delete", () => profileAction("delete_profile", { name: p.name }, () => `deleted ${p.name}`));
      }
    }
  }
}

$("profile").addEventListener("click", () => {
  $("profiles-dialog").showModal();
  profileAction("profiles", {}, () => "");
});
$("profiles-close").addEventListener("click", () => $("profiles-dialog").close());
$("profile-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const profile = {
    name: $("pf-name").value.trim(),
    url: $("pf-url").value.trim(),
    user: $("pf-user").value.trim(),
    database: $("pf-database").value.trim(),
  };
  const password = $("pf-password").value;
  $("pf-password").value = "";
  profileAction("save_profile", { profile, password }, () => `saved ${profile.name}`);
});

// --- Connect your product: SDK snippets and event aliases, both from the engine. ---

async function copyText(button, text) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    button.textContent = "Select and copy";
  }
  setTimeout(() => (button.textContent = "Copy"), 1500);
}

function renderConnect(connect) {
  $("connect-url").textContent = connect.url;
  $("connect-key").textContent = connect.key_required
    ? "This instance requires its ingest token as the SDK's key (filled in below)."
    : "No key is required on this machine; any key works.";
  $("snippets").innerHTML = "";
  for (const snippet of connect.snippets) {
    const title = document.createElement("h4");
    title.textContent = snippet.title;
    const row = document.createElement("div");
    row.className = "curl";
    const code = document.createElement("code");
    code.id = `snippet-${snippet.id}`;
    code.textContent = snippet.code;
    const copy = document.createElement("button");
    copy.textContent = "Copy";
    copy.addEventListener("click", () => copyText(copy, snippet.code));
    row.append(code, copy);
    $("snippets").append(title, row);
  }
}

function aliasRow(from = "", to = "") {
  const row = $("aliases-table").querySelector("tbody").insertRow();
  for (const [value, placeholder] of [[from, "signed_up"], [to, "signup_completed"]]) {
    const input = document.createElement("input");
    input.value = value;
    input.placeholder = placeholder;
    row.insertCell().append(input);
  }
  const remove = document.createElement("button");
  remove.textContent = "Remove";
  remove.addEventListener("click", () => row.remove());
  row.insertCell().append(remove);
}

function renderAliases(aliases) {
  $("aliases-table").querySelector("tbody").innerHTML = "";
  for (const [from, to] of Object.entries(aliases)) aliasRow(from, to);
}

async function connectAction(command, args, done) {
  $("connect-message").className = "";
  try {
    const result = await invoke(command, args);
    $("connect-message").textContent = done(result);
    return result;
  } catch (error) {
    $("connect-message").className = "error";
    $("connect-message").textContent = String(error);
  }
}

$("view-connect").addEventListener("view-shown", async () => {
  const connect = await connectAction("connect", {}, () => "");
  if (connect) renderConnect(connect);
  const aliases = await connectAction("aliases", {}, () => "");
  if (aliases) renderAliases(aliases);
});
$("alias-add").addEventListener("click", () => aliasRow());
$("aliases-save").addEventListener("click", async () => {
  const aliases = {};
  for (const row of $("aliases-table").querySelector("tbody").rows) {
    const [from, to] = [...row.querySelectorAll("input")].map((i) => i.value.trim());
    if (from) aliases[from] = to;
  }
  const saved = await connectAction("set_aliases", { aliases }, (a) => `saved ${Object.keys(a).length} aliases`);
  if (saved) renderAliases(saved);
});

// --- Funnels view: pick one, see its steps and drop-off (and for whom), define or edit one. ---

let funnelsView = null;

// `done` words what happened; without it a success leaves the last message (a "saved" stays
// while the saved funnel is computed).
async function funnelAction(command, args, done) {
  try {
    const result = await invoke(command, args);
    if (done) {
      $("funnels-message").className = "";
      $("funnels-message").textContent = done(result);
    }
    return result;
  } catch (error) {
    $("funnels-message").className = "error";
    $("funnels-message").textContent = String(error);
  }
}

function renderFunnels(view, pick) {
  funnelsView = view;
  const select = $("funnel-pick");
  select.innerHTML = "";
  for (const f of view.funnels) {
    const option = document.createElement("option");
    option.value = f.id;
    option.textContent = f.name === f.id ? f.id : `${f.name} (${f.id})`;
    select.append(option);
  }
  if (pick && view.funnels.some((f) => f.id === pick)) select.value = pick;
  $("event-names").innerHTML = "";
  for (const e of view.event_names) {
    const option = document.createElement("option");
    option.value = e.event_name;
    option.label = `${e.count} events`;
    $("event-names").append(option);
  }
  loadFunnel();
}

function setBreakdown(text) {
  const prop = text.startsWith("prop.");
  $("funnel-breakdown").value = prop ? "prop" : text;
  $("funnel-breakdown-key").value = prop ? text.slice(5) : "";
}

function breakdownAsked() {
  const kind = $("funnel-breakdown").value;
  $("funnel-breakdown-key").hidden = kind !== "prop";
  if (kind !== "prop") return kind;
  const key = $("funnel-breakdown-key").value.trim();
  return key ? `prop.${key}` : "";
}

function percent(value) {
  return value === null ? "–" : `${value.toFixed(1)} %`;
}

async function loadFunnel() {
  const id = $("funnel-pick").value;
  const funnel = funnelsView && funnelsView.funnels.find((f) => f.id === id);
  if (!funnel) return;
  fillForm(funnel);
  $("funnel-on-dashboard").checked = funnelsView.shown === id;
  const answer = await funnelAction("funnel_report", { id, breakdown: breakdownAsked() });
  if (!answer) return;
  $("funnel-chart").innerHTML = answer.chart;
  $("funnel-trend").innerHTML = answer.trend_chart;
  const body = $("funnel-steps").querySelector("tbody");
  body.innerHTML = "";
  const last = answer.report.steps.length - 1;
  answer.report.steps.forEach((step, i) => {
    const row = body.insertRow();
    row.id = `funnel-step-${i}`;
    for (const text of [step.event_name, number.format(step.count), percent(step.pct_of_first), percent(step.pct_of_previous)]) {
      row.insertCell().textContent = text;
    }
    const who = row.insertCell();
    who.append(whoButton(`funnel-reached-${i}`, "reached", id, i, false, null));
    if (i < last) who.append(" ", whoButton(`funnel-dropped-${i}`, "dropped", id, i, true, null));
  });
  $("funnel-actors").hidden = true;
  renderGroups(answer);
}

// A button listing who reached step `i` (or dropped after it), in group `value` when given.
function whoButton(elementId, label, id, i, dropped, value) {
  const button = Object.assign(document.createElement("button"), { type: "button", className: "quiet", textContent: label });
  button.id = elementId;
  button.title = dropped ? "Who reached this step and went no further" : "Who reached this step";
  button.addEventListener("click", () => funnelActors(id, i, dropped, value));
  return button;
}

async function funnelActors(id, i, dropped, value) {
  const args = { id, step: i + 1, dropped, breakdown: value === null ? "" : breakdownAsked(), value };
  const answer = await funnelAction("funnel_actors", args);
  if (!answer) return;
  const group = value === null ? "" : ` (${value || "(none)"})`;
  const what = dropped ? `dropped after ${answer.event_name}` : `reached ${answer.event_name}`;
  $("funnel-actors-title").textContent = `${number.format(answer.total)} ${what}${group}`;
  $("funnel-actors-list").replaceChildren(...answer.actors.map((a) => {
    const item = document.createElement("li");
    const open = Object.assign(document.createElement("button"), { type: "button", className: "quiet", textContent: a.actor });
    open.addEventListener("click", () => {
      showView("people", true);
      window.pulseboardPeople.open(a.actor);
    });
    item.append(open);
    return item;
  }));
  $("funnel-actors").hidden = false;
}

// Per group: each step's count and its share of the step before, the conversion with its
// 95 % interval; the group furthest below the total highlighted, small groups noted.
function renderGroups(answer) {
  const groups = $("funnel-groups");
  const note = $("funnel-groups-note");
  groups.tHead.innerHTML = "";
  groups.tBodies[0].innerHTML = "";
  note.hidden = true;
  if (!answer.report.breakdown) return;
  const head = groups.tHead.insertRow();
  for (const text of [answer.report.breakdown, ...answer.report.steps.map((s) => s.event_name), "conversion (95 % interval)"]) {
    head.append(Object.assign(document.createElement("th"), { textContent: text }));
  }
  const total = answer.report.steps;
  const totalRow = groups.tBodies[0].insertRow();
  totalRow.className = "total";
  groupCells(totalRow, "all", total, null);
  let small = 0;
  answer.report.groups.forEach((group, i) => {
    const row = groups.tBodies[0].insertRow();
    row.id = `funnel-group-${i}`;
    if (group.value === answer.lagging) {
      row.className = "lagging";
      row.title = "furthest below the total's conversion";
    }
    groupCells(row, group.value || "(none)", group.steps, answer.intervals[i]);
    // A group's step count: who of the group dropped after it (at the last, who reached it).
    const last = group.steps.length - 1;
    group.steps.forEach((_, k) => {
      const cell = row.cells[k + 1];
      cell.classList.add("who");
      cell.title = k < last ? "Click: who dropped after this step" : "Click: who reached the last step";
      cell.addEventListener("click", () => funnelActors(answer.report.id, k, k < last, group.value));
    });
    if (group.steps[0].count < 30) small += 1;
  });
  if (small > 0) {
    note.hidden = false;
    note.textContent = `${small} group(s) with fewer than 30 actors entering: their interval is wide, read them with care.`;
  }
}

function groupCells(row, name, steps, interval) {
  row.insertCell().textContent = name;
  steps.forEach((step, i) => {
    const share = i === 0 ? "" : ` (${percent(step.pct_of_previous)})`;
    row.insertCell().textContent = `${number.format(step.count)}${share}`;
  });
  const range = interval ? ` (${interval[0].toFixed(1)}–${interval[1].toFixed(1)})` : "";
  row.insertCell().textContent = `${percent(steps[steps.length - 1].pct_of_first)}${range}`;
}

function stepItem(step = { event_name: "" }) {
  const item = document.createElement("li");
  const name = Object.assign(document.createElement("input"), {
    className: "ff-event", value: step.event_name, placeholder: "event name", required: true,
  });
  name.setAttribute("list", "event-names");
  const where = Object.assign(document.createElement("input"), {
    className: "ff-where", placeholder: "only where, e.g. prop.plan=pro country=DE",
    value: Object.entries(step.where || {}).map(([k, v]) => `${k}=${v}`).join(" "),
  });
  const remove = Object.assign(document.createElement("button"), { type: "button", textContent: "Remove" });
  remove.addEventListener("click", () => { item.remove(); numberSteps(); });
  item.append(name, where, remove);
  $("ff-steps").append(item);
  numberSteps();
}

// Stable ids per position, for people using the keyboard and for the window's tests.
function numberSteps() {
  [...$("ff-steps").children].forEach((item, i) => {
    item.querySelector(".ff-event").id = `ff-step-${i}-event`;
    item.querySelector(".ff-where").id = `ff-step-${i}-where`;
  });
}

function fillForm(funnel) {
  $("ff-id").value = funnel.id;
  $("ff-name").value = funnel.name;
  $("ff-window").value = funnel.window;
  $("ff-count-by").value = funnel.count_by;
  $("ff-steps").innerHTML = "";
  for (const step of funnel.steps) stepItem(step);
}

// The form as the API's definition: `key=value` words of a step become its `where`.
function definitionFromForm() {
  const steps = [...$("ff-steps").children].map((item) => {
    const step = { event_name: item.querySelector(".ff-event").value.trim() };
    const words = item.querySelector(".ff-where").value.trim().split(/\s+/).filter(Boolean);
    if (words.length) {
      step.where = Object.fromEntries(words.map((w) => [w.split("=")[0], w.slice(w.indexOf("=") + 1)]));
    }
    return step;
  });
  const definition = { steps, window: $("ff-window").value.trim(), count_by: $("ff-count-by").value };
  const name = $("ff-name").value.trim();
  if (name) definition.name = name;
  return definition;
}

// Opened, or the range or filters changed: the funnel picked stays, else the one the signup
// panel shows.
$("view-funnels").addEventListener("view-shown", async () => {
  const view = await funnelAction("funnels", {});
  const shownOnDashboard = (lastView && lastView.funnel && lastView.funnel.id) || "signup";
  if (!view) return;
  // First opening: the funnel and breakdown shown last (or the campaign demo's funnel).
  if (!$("funnel-pick").value && view.last) setBreakdown(view.last.breakdown);
  renderFunnels(view, $("funnel-pick").value || (view.last && view.last.id) || shownOnDashboard);
});
$("funnel-pick").addEventListener("change", loadFunnel);
$("funnel-breakdown").addEventListener("change", loadFunnel);
// Applied as typed (after a pause), not only on Enter.
let breakdownTyping = null;
$("funnel-breakdown-key").addEventListener("input", () => {
  clearTimeout(breakdownTyping);
  breakdownTyping = setTimeout(loadFunnel, 400);
});
$("ff-add-step").addEventListener("click", () => stepItem());
$("funnel-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const id = $("ff-id").value.trim();
  const view = await funnelAction("save_funnel", { id, definition: definitionFromForm() }, () => `saved ${id}`);
  if (view) renderFunnels(view, id);
});
$("ff-delete").addEventListener("click", async () => {
  const id = $("ff-id").value.trim();
  const view = await funnelAction("delete_funnel", { id }, () => `deleted ${id}`);
  if (view) renderFunnels(view);
});
$("funnel-on-dashboard").addEventListener("change", async () => {
  const id = $("funnel-on-dashboard").checked ? $("funnel-pick").value : null;
  const view = await funnelAction("show_funnel", { id });
  if (view) {
    render(view);
    funnelsView.shown = id;
  }
});

listen("dashboard", (event) => render(event.payload));
setInterval(updated, 1000);
act("snapshot");
invoke("page").then((page) => showView(page, false));
