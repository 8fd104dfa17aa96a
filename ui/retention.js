// The Retention view: a question (start and return events, period, how many, breakdown) over
// a week or a month and the filter bar's filters, answered by the engine (`retention`, as
// GET /api/retention) as cohort tables: each period's share of the cohort, shaded by it.
"use strict";
(() => {
  const { invoke } = window.__TAURI__.core;
  const $ = (id) => document.getElementById(id);
  let asking = 0; // the latest question: an older answer arriving late is dropped

  function status(text, error = false) {
    $("rt-status").className = error ? "error" : "";
    $("rt-status").textContent = text;
  }

  function asked() {
    const kind = $("rt-breakdown").value;
    const key = $("rt-breakdown-key").value.trim();
    return {
      range: $("rt-range").value,
      start_event: $("rt-start").value,
      return_event: $("rt-return").value,
      period: $("rt-period").value,
      periods: $("rt-periods").value,
      breakdown: kind === "prop" ? (key ? `prop.${key}` : "") : kind,
    };
  }

  // A cohort's start in local time: the date for days, the date and hour for hours.
  function when(start, period) {
    const t = new Date(start);
    const day = t.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short" });
    return period === "hour" ? `${day} ${t.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })}` : day;
  }

  function table(answer, cohorts, id) {
    const t = document.createElement("table");
    t.className = "cohorts";
    t.id = id;
    const unit = answer.period === "hour" ? "Hour" : "Day";
    const head = document.createElement("tr");
    for (const text of ["Cohort", "People", ...Array.from({ length: answer.periods }, (_, i) => `${unit} ${i + 1}`)]) {
      const th = document.createElement("th");
      th.textContent = text;
      head.append(th);
    }
    t.createTHead().append(head);
    const body = t.createTBody();
    for (const cohort of cohorts) {
      const tr = body.insertRow();
      tr.insertCell().textContent = when(cohort.start, answer.period);
      tr.insertCell().textContent = cohort.size.toLocaleString();
      for (let k = 1; k <= answer.periods; k++) {
        const td = tr.insertCell();
        td.className = "share";
        if (k >= cohort.returned.length) continue; // not begun
        const n = cohort.returned[k];
        const pct = cohort.size ? (100 * n) / cohort.size : 0;
        td.textContent = cohort.size ? `${pct.toFixed(1)} %` : "–";
        td.title = `${n.toLocaleString()} of ${cohort.size.toLocaleString()}`;
        td.style.background = `rgba(96, 165, 250, ${(0.08 + 0.72 * pct / 100).toFixed(3)})`;
      }
    }
    return t;
  }

  async function ask() {
    if (!$("rt-start").value) return status("No events yet: send some, then pick the event people start with.");
    const mine = ++asking;
    try {
      const answer = await invoke("retention", { asked: asked() });
      if (mine !== asking) return;
      const parts = [table(answer, answer.cohorts, "rt-all")];
      for (const [i, group] of (answer.groups || []).entries()) {
        const h = document.createElement("h3");
        h.textContent = group.group === "" ? "(none)" : group.group;
        parts.push(h, table(answer, group.cohorts, `rt-group-${i}`));
      }
      $("rt-tables").replaceChildren(...parts);
      const people = answer.cohorts.reduce((sum, c) => sum + c.size, 0);
      status(`${people.toLocaleString()} people started with ${answer.start_event}; returns: ${answer.return_event}`);
    } catch (error) {
      if (mine === asking) status(String(error), true);
    }
  }

  function options(select, names, first) {
    const chosen = select.value;
    const items = names.map((n) => new Option(n, n));
    select.replaceChildren(...first, ...items);
    if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
  }

  // The event names seen over the view's range, offered to start and return with.
  async function events() {
    const names = await invoke("retention_events", { range: $("rt-range").value });
    options($("rt-start"), names, []);
    options($("rt-return"), names, [new Option("any event", "any")]);
  }

  $("rt-range").addEventListener("change", async () => {
    await events().catch((error) => status(String(error), true));
    ask();
  });
  for (const id of ["rt-start", "rt-return", "rt-period", "rt-periods", "rt-breakdown-key"]) {
    $(id).addEventListener("change", ask);
  }
  $("rt-breakdown").addEventListener("change", () => {
    $("rt-breakdown-key").hidden = $("rt-breakdown").value !== "prop";
    ask();
  });
  $("rt-csv").addEventListener("click", async () => {
    try {
      status(`Saved ${await invoke("save_retention_csv", { asked: asked() })}`);
    } catch (error) {
      status(String(error), true);
    }
  });
  $("view-retention").addEventListener("view-shown", async () => {
    try {
      await events();
      await ask();
    } catch (error) {
      status(String(error), true);
    }
  });
})();
