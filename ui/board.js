// The dashboard the team arranges: the tiles in the engine's order (panels, insights,
// funnels), each with its tools (move, remove, Download CSV); "Add a tile" and "New insight…"
// with a live preview. Every number and chart comes from the engine; the order is the engine's
// (`arrange`, as PUT /api/dashboard).
"use strict";
(() => {
  const { invoke } = window.__TAURI__.core;
  const $ = (id) => document.getElementById(id);
  let board = [];
  // What each insight or funnel tile last showed, so an unchanged push touches nothing.
  const drawn = new Map();

  function message(text, error = false) {
    $("board-message").className = error ? "error" : "";
    $("board-message").textContent = text;
  }

  async function arrange(tiles, done) {
    try {
      render(await invoke("arrange", { tiles: tiles.map(({ kind, id }) => ({ kind, id })) }));
      message(done);
    } catch (error) {
      message(String(error), true);
    }
  }

  function tool(tile, name, label, title, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.id = `tile-${name}-${tile.element}`;
    b.textContent = label;
    b.title = title;
    b.addEventListener("click", onClick);
    return b;
  }

  // Move, remove and CSV buttons on a tile's title, added once per element.
  function tools(tile, element) {
    if (element.querySelector(".tile-tools")) return;
    const at = () => board.findIndex((t) => t.element === tile.element);
    const move = (by) => () => {
      const tiles = board.slice();
      const i = at();
      const j = i + by;
      if (i < 0 || j < 0 || j >= tiles.length) return;
      [tiles[i], tiles[j]] = [tiles[j], tiles[i]];
      arrange(tiles, "");
    };
    const span = document.createElement("span");
    span.className = "tile-tools";
    span.append(
      tool(tile, "up", "↑", "Move up (earlier on the dashboard)", move(-1)),
      tool(tile, "down", "↓", "Move down", move(1)),
      tool(tile, "csv", "CSV", "Download this tile's data as CSV (into Downloads)", async () => {
        try {
          message(`saved ${await invoke("save_csv", { kind: tile.kind, id: tile.id })}`);
        } catch (error) {
          message(String(error), true);
        }
      }),
      tool(tile, "remove", "✕", "Remove from the dashboard (the insight or funnel stays saved)", () =>
        arrange(board.filter((t) => t.element !== tile.element), `removed ${tile.title}`)),
    );
    element.querySelector("h2").append(span);
  }

  // The element of an insight or funnel tile, made on first sight.
  function own(tile) {
    let article = $(tile.element);
    if (article) return article;
    article = document.createElement("article");
    article.className = "panel";
    article.id = tile.element;
    const title = document.createElement("h2");
    title.append(Object.assign(document.createElement("span"), { className: "title" }), " ",
      Object.assign(document.createElement("small"), { id: `summary-${tile.element}` }));
    article.append(title,
      Object.assign(document.createElement("div"), { className: "big", id: `number-${tile.element}` }),
      Object.assign(document.createElement("div"), { className: "chart", id: `chart-${tile.element}` }),
      Object.assign(document.createElement("table"), { className: "totals", id: `table-${tile.element}` }));
    return article;
  }

  function fill(tile, article) {
    const json = JSON.stringify(tile);
    if (drawn.get(tile.element) === json) return;
    drawn.set(tile.element, json);
    article.querySelector("h2 .title").textContent = tile.title;
    $(`summary-${tile.element}`).textContent = tile.summary;
    $(`number-${tile.element}`).textContent = tile.number || "";
    $(`number-${tile.element}`).hidden = !tile.number;
    // The engine's own plotters SVG (no scripts, escaped text): safe to place inline.
    $(`chart-${tile.element}`).innerHTML = tile.chart || "";
    const table = $(`table-${tile.element}`);
    table.innerHTML = "";
    for (const [group, total] of tile.rows) {
      const row = table.insertRow();
      row.insertCell().textContent = group;
      row.insertCell().textContent = total;
    }
  }

  // Lays the grid out in the board's order: panels off the board hidden, tiles of questions
  // no longer on it removed; the chosen funnel's trend stays last.
  window.renderBoard = (view) => {
    board = view.board;
    const grid = $("grid");
    const on = new Set(board.map((t) => t.element));
    for (const child of Array.from(grid.children)) {
      if (on.has(child.id) || child.id === "panel-funnel_trend") continue;
      if (child.id.startsWith("panel-")) child.hidden = true;
      else {
        child.remove();
        drawn.delete(child.id);
      }
    }
    for (const tile of board) {
      const element = tile.kind === "panel" ? $(tile.element) : own(tile);
      if (!element) continue;
      grid.append(element);
      if (tile.kind === "panel") element.hidden = false;
      else fill(tile, element);
      tools(tile, element);
    }
    const trend = $("panel-funnel_trend");
    if (trend) grid.append(trend);
  };

  // --- Add a tile: a panel off the board, a saved insight or funnel. ---
  async function offerTiles() {
    const shelves = await invoke("shelves").catch(() => null);
    if (!shelves) return null;
    const on = new Set(board.map((t) => `${t.kind}:${t.id}`));
    const pick = $("tile-pick");
    pick.innerHTML = "";
    const offer = (kind, id, label) => {
      if (on.has(`${kind}:${id}`)) return;
      pick.append(Object.assign(document.createElement("option"), { value: `${kind}:${id}`, textContent: label }));
    };
    for (const [id, title] of shelves.panels) offer("panel", id, `panel: ${title}`);
    for (const i of shelves.insights) offer("insight", i.id, `insight: ${i.name}`);
    for (const [id, name] of shelves.funnels) offer("funnel", id, `funnel: ${name}`);
    $("tile-add").disabled = pick.options.length === 0;
    return shelves;
  }
  $("tile-pick").addEventListener("focus", offerTiles);
  $("view-dashboard").addEventListener("view-shown", offerTiles);
  $("tile-add").addEventListener("click", () => {
    const value = $("tile-pick").value;
    if (!value) return;
    const at = value.indexOf(":");
    const tile = { kind: value.slice(0, at), id: value.slice(at + 1) };
    arrange([...board, tile], `added ${$("tile-pick").selectedOptions[0].textContent}`).then(offerTiles);
  });

  // --- New insight: the definition as the API takes it, previewed on every change. ---
  const PROPERTY_MEASURES = ["sum", "avg", "min", "max", "p50", "p95"];

  function definition() {
    const measure = $("if-measure").value;
    const breakdown = $("if-breakdown").value;
    const key = (id) => $(id).value.trim();
    return {
      name: key("if-name") || null,
      events: Array.from($("if-events").selectedOptions).map((o) => o.value),
      where: filterWords($("if-where").value),
      measure: PROPERTY_MEASURES.includes(measure) ? `${measure}:prop.${key("if-measure-key")}` : measure,
      breakdown: breakdown === "prop" ? `prop.${key("if-breakdown-key")}` : breakdown || null,
      chart: $("if-chart").value,
      interval: "auto",
    };
  }

  let previewing = 0;
  async function preview() {
    $("if-measure-key").hidden = !PROPERTY_MEASURES.includes($("if-measure").value);
    $("if-breakdown-key").hidden = $("if-breakdown").value !== "prop";
    const asked = ++previewing;
    try {
      const tile = await invoke("preview_insight", { definition: definition() });
      if (asked !== previewing) return;
      $("if-preview-summary").textContent = tile.summary;
      $("if-preview-summary").className = "";
      $("if-preview-number").textContent = tile.number || "";
      $("if-preview").innerHTML = tile.chart || tile.rows.map(([g, t]) => `${g}: ${t}`).join(" · ");
    } catch (error) {
      if (asked !== previewing) return;
      $("if-preview-summary").textContent = String(error);
      $("if-preview-summary").className = "error";
      $("if-preview-number").textContent = "";
      $("if-preview").innerHTML = "";
    }
  }
  let timer = null;
  $("insight-form").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(preview, 250);
  });
  $("insight-form").addEventListener("change", preview);

  $("insight-new").addEventListener("click", async () => {
    const shelves = await offerTiles();
    const events = $("if-events");
    events.innerHTML = "";
    for (const e of shelves ? shelves.event_names : []) {
      events.append(Object.assign(document.createElement("option"), { value: e.event_name, textContent: `${e.event_name} (${e.count})` }));
    }
    $("insight-form").hidden = false;
    $("if-message").textContent = "";
    $("if-id").focus();
    preview();
  });
  $("if-cancel").addEventListener("click", () => {
    $("insight-form").hidden = true;
  });
  $("insight-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = $("if-id").value.trim();
    try {
      render(await invoke("save_insight", { id, definition: definition() }));
      $("insight-form").hidden = true;
      message(`saved and pinned insight ${id}`);
    } catch (error) {
      $("if-message").className = "error";
      $("if-message").textContent = String(error);
    }
  });
})();
