// The People view: what lands, live (the engine's `live` pushes while the view is open,
// narrowed by the filter bar), and the people behind it: found by the beginning of their id,
// each one's last week of events grouped by session. An event's whole JSON on click.
"use strict";
(() => {
  const { invoke } = window.__TAURI__.core;
  const { listen } = window.__TAURI__.event;
  const $ = (id) => document.getElementById(id);
  const SHOWN = 200; // rows the live list keeps
  let paused = false;
  let held = 0; // items that arrived while paused, not shown
  let skipped = 0;
  let searching = 0; // the latest search: an older answer arriving late is dropped

  const time = (t) => new Date(t).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const actorOf = (e) => e.user_id || e.session_id;

  function cell(text, className) {
    const span = document.createElement("span");
    span.textContent = text;
    if (className) span.className = className;
    return span;
  }

  function showJson(pre, value) {
    pre.textContent = JSON.stringify(value, null, 2);
    pre.hidden = false;
  }

  function counts() {
    const parts = [];
    if (paused) parts.push(`paused, ${held.toLocaleString()} not shown`);
    if (skipped) parts.push(`${skipped.toLocaleString()} over 200 a second not shown`);
    $("live-count").textContent = parts.join("; ");
  }

  function row(kind, data) {
    const li = document.createElement("li");
    li.className = kind;
    if (kind === "accepted") {
      li.append(cell(time(data.timestamp)), cell(data.event_name), cell(`${actorOf(data)} · ${data.source}`, "who"));
      li.title = "Click: the event's JSON; double-click: this person";
      li.addEventListener("dblclick", () => openPerson(actorOf(data)));
    } else {
      li.append(cell(time(data.received_at)), cell(`refused (${data.source}, item ${data.index})`), cell("", "who"),
        cell(data.error, "why"));
    }
    li.addEventListener("click", () => showJson($("live-json"), data));
    return li;
  }

  listen("live", (event) => {
    const { kind, data } = event.payload;
    if (kind === "skipped") {
      skipped += data.count;
      return counts();
    }
    if (paused) {
      held += 1;
      return counts();
    }
    const list = $("live-list");
    list.prepend(row(kind, data));
    while (list.children.length > SHOWN) list.lastChild.remove();
  });

  $("live-pause").addEventListener("click", () => {
    paused = !paused;
    $("live-pause").textContent = paused ? "Resume" : "Pause";
    $("live-pause").setAttribute("aria-pressed", String(paused));
    held = 0;
    counts();
  });

  function status(text, error = false) {
    $("people-status").className = error ? "error" : "";
    $("people-status").textContent = text;
  }

  async function search() {
    const mine = ++searching;
    try {
      const answer = await invoke("people", { search: $("people-search").value.trim() });
      if (mine !== searching) return;
      const rows = answer.people.map((p) => {
        const tr = document.createElement("tr");
        for (const text of [p.actor, `${new Date(p.last_seen).toLocaleString()}`, p.events.toLocaleString(), p.country || "–"]) {
          tr.insertCell().textContent = text;
        }
        tr.addEventListener("click", () => openPerson(p.actor));
        return tr;
      });
      $("people-list").tBodies[0].replaceChildren(...rows);
      status(answer.people.length ? (answer.more ? "The 50 last seen; type more of an id to narrow." : "")
        : "Nobody seen in the last 7 days matches.");
    } catch (error) {
      if (mine === searching) status(String(error), true);
    }
  }

  // A person's last week, newest first, a heading per session.
  async function openPerson(actor) {
    try {
      const timeline = await invoke("person", { actor });
      const n = timeline.events.length;
      $("person-title").textContent = `${actor}: ${n} event${n === 1 ? "" : "s"} in the last 7 days`;
      const parts = [];
      let session = null;
      let list = null;
      for (const e of timeline.events) {
        if (e.session_id !== session) {
          session = e.session_id;
          const h = document.createElement("h4");
          h.textContent = `Session ${session}`;
          list = document.createElement("ul");
          list.className = "timeline";
          parts.push(h, list);
        }
        const li = document.createElement("li");
        li.append(cell(time(e.timestamp)), cell(e.event_name), cell(`${e.country_code || "–"} · ${e.device_type}`, "where"));
        li.title = new Date(e.timestamp).toLocaleString();
        li.addEventListener("click", () => showJson($("person-json"), e));
        list.append(li);
      }
      $("person-sessions").replaceChildren(...parts);
      $("person-json").hidden = true;
      $("person").hidden = false;
      $("person").scrollIntoView({ block: "nearest" });
    } catch (error) {
      status(String(error), true);
    }
  }

  // The Funnels view opens a person of a step from here.
  window.pulseboardPeople = { open: openPerson };

  let typing = null;
  $("people-search").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(search, 250);
  });

  // Shown (again after the filters change): watch what lands under the filters, and list people.
  $("view-people").addEventListener("view-shown", () => {
    invoke("watch_live", { on: true }).catch((error) => status(String(error), true));
    search();
  });
  // Another view: stop watching, so a hidden view costs nothing.
  new MutationObserver(() => {
    if ($("view-people").hidden) invoke("watch_live", { on: false }).catch(() => {});
  }).observe($("view-people"), { attributes: true, attributeFilter: ["hidden"] });
})();
