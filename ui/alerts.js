// The Alerts view and the header's badge: renders what the engine gives (rules with their
// state in words); every action is a command over the library, as /api/alerts.
"use strict";
(() => {
  const { invoke } = window.__TAURI__.core;
  const { listen } = window.__TAURI__.event;
  const $ = (id) => document.getElementById(id);
  // The table is rebuilt only when the rules changed, so a push never swaps a row under the
  // pointer.
  let shown = "";

  function renderBadge(alerts) {
    $("alerts-badge").hidden = !alerts.badge;
    $("alerts-badge").textContent = alerts.badge || "";
    $("alerts-badge").title = alerts.firing.join("\n");
  }

  function render(alerts) {
    renderBadge(alerts);
    const json = JSON.stringify(alerts.rules);
    if (json === shown) return;
    shown = json;
    const body = $("alerts-table").querySelector("tbody");
    body.innerHTML = "";
    for (const a of alerts.rules) {
      const row = body.insertRow();
      row.id = `alert-row-${a.id}`;
      const name = row.insertCell();
      name.textContent = a.rule.muted ? `${a.rule.name} (muted)` : a.rule.name;
      const state = row.insertCell();
      const label = document.createElement("div");
      label.id = `alert-state-${a.id}`;
      label.className = `state ${a.state}`;
      label.textContent = a.state;
      state.append(label);
      const detail = (text, cls = "detail") => {
        const div = document.createElement("div");
        div.className = cls;
        div.textContent = text;
        state.append(div);
      };
      detail(a.status);
      for (const error of a.delivery_errors) detail(error, "detail error");
      if (a.transitions.length) detail(`recent: ${a.transitions.slice(0, 5).join(" · ")}`);
      const actions = row.insertCell();
      const button = (label, id, onClick) => {
        const b = document.createElement("button");
        b.textContent = label;
        b.id = `alert-${id}-${a.id}`;
        b.addEventListener("click", onClick);
        actions.append(b);
      };
      button("Edit", "edit", () => fill(a));
      button(a.rule.muted ? "Unmute" : "Mute", "mute", () =>
        action("save_alert", { id: a.id, rule: { ...a.rule, muted: !a.rule.muted } },
          () => `${a.rule.muted ? "unmuted" : "muted"} ${a.id}`));
      button("Delete", "delete", () => action("delete_alert", { id: a.id }, () => `deleted ${a.id}`));
    }
  }

  function fill(a) {
    const r = a.rule;
    $("af-id").value = a.id;
    $("af-name").value = r.name;
    $("af-metric").value = r.metric;
    $("af-op").value = r.op;
    $("af-compare").value = r.compare_to || "previous";
    showCompare();
    $("af-threshold").value = r.threshold;
    $("af-for").value = r.for;
    $("af-hold").value = r.hold;
    $("af-min-events").value = r.min_events;
    $("af-filters").value = wordsOf(r.filters);
    $("af-webhook").value = r.webhook || "";
    $("af-muted").checked = r.muted;
  }

  async function action(command, args, done) {
    $("alerts-message").className = "";
    try {
      const alerts = await invoke(command, args);
      render(alerts);
      $("alerts-message").textContent = done(alerts);
    } catch (error) {
      $("alerts-message").className = "error";
      $("alerts-message").textContent = String(error);
    }
  }

  // A change is measured against an earlier window: offered with the change operators only.
  const isChange = () => $("af-op").value.endsWith("_by_pct");
  function showCompare() {
    $("af-compare-label").hidden = !isChange();
  }
  $("af-op").addEventListener("change", showCompare);

  // Every funnel's conversion, each of its steps over the one before, and every insight is a
  // metric a rule can watch.
  async function offerMetrics() {
    const funnels = await invoke("funnels").catch(() => ({ funnels: [] }));
    const shelves = await invoke("shelves").catch(() => ({ insights: [] }));
    const list = $("af-metrics");
    list.innerHTML = "";
    const offer = (value, label) => list.append(Object.assign(document.createElement("option"), { value, label }));
    offer("error_rate_pct", "error rate %");
    offer("events", "events");
    offer("active_users", "active users (sessions)");
    for (const f of funnels.funnels) {
      offer(`funnel_conversion_pct:${f.id}`, `conversion % of ${f.name}`);
      f.steps.slice(1).forEach((step, i) => {
        const label = `${step.event_name} of ${f.steps[i].event_name} % (${f.name}, step ${i + 2})`;
        offer(`funnel_step_pct:${f.id}:${i + 2}`, label);
      });
    }
    for (const i of shelves.insights) offer(`insight:${i.id}`, `${i.name} (insight, all groups)`);
  }

  $("view-alerts").addEventListener("view-shown", () => {
    offerMetrics();
    action("alerts", {}, () => "");
  });
  // The filters applied on the dashboard, so a rule watches what the charts show.
  $("af-use-filters").addEventListener("click", () => {
    $("af-filters").value = lastView ? wordsOf(lastView.panels.filters) : "";
  });
  $("af-preview").addEventListener("click", async () => {
    const id = $("af-id").value.trim();
    const list = $("alert-preview");
    list.innerHTML = "";
    try {
      const lines = await invoke("preview_alert", { id });
      const texts = lines.length ? lines : ["it would not have changed state in the last 6 hours"];
      texts.forEach((text, i) => list.append(Object.assign(document.createElement("li"), { id: `alert-preview-${i}`, textContent: text })));
    } catch (error) {
      list.append(Object.assign(document.createElement("li"), { className: "error", textContent: String(error) }));
    }
  });
  $("alert-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = $("af-id").value.trim();
    const filters = filterWords($("af-filters").value);
    // Sent as typed: the engine checks every field and names the one it refuses.
    const rule = {
      name: $("af-name").value.trim() || null,
      metric: $("af-metric").value.trim(),
      op: $("af-op").value,
      threshold: Number($("af-threshold").value),
      compare_to: isChange() ? $("af-compare").value : null,
      for: $("af-for").value.trim(),
      hold: $("af-hold").value.trim(),
      min_events: Number($("af-min-events").value),
      filters,
      webhook: $("af-webhook").value.trim() || null,
      muted: $("af-muted").checked,
    };
    action("save_alert", { id, rule }, () => `saved ${id}`);
  });

  listen("dashboard", (event) => {
    if (!$("view-alerts").hidden) render(event.payload.alerts);
    else renderBadge(event.payload.alerts);
  });
  invoke("alerts").then(renderBadge);
})();
