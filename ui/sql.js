// The SQL view: an editor (Ctrl+Enter runs; the last statement is remembered by the engine),
// the answer as a table (copy as TSV, CSV into Downloads) under its chart when it is a time and
// numbers, the saved queries and the store's tables beside it. The rule and limits are the
// engine's (`run_sql`, as POST /api/sql).
"use strict";
(() => {
  const { invoke } = window.__TAURI__.core;
  const $ = (id) => document.getElementById(id);
  let last = null; // the answer shown, for Copy
  let opened = false;
  // What the lists show, so that showing the view again touches nothing unchanged.
  const listed = { saved: "", tables: "" };

  function status(text, error = false) {
    $("sql-status").className = error ? "error" : "";
    $("sql-status").textContent = text;
  }

  function cell(value) {
    const td = document.createElement("td");
    if (value === null) {
      td.textContent = "NULL";
      td.className = "null";
    } else {
      td.textContent = typeof value === "object" ? JSON.stringify(value) : String(value);
    }
    td.title = td.textContent;
    return td;
  }

  function show(run) {
    const { answer, chart } = run;
    last = answer;
    const head = document.createElement("tr");
    for (const column of answer.columns) {
      const th = document.createElement("th");
      th.textContent = column.name;
      th.title = column.type;
      head.append(th);
    }
    $("sql-result").tHead.replaceChildren(head);
    const body = document.createDocumentFragment();
    for (const row of answer.rows) {
      const tr = document.createElement("tr");
      tr.append(...row.map(cell));
      body.append(tr);
    }
    $("sql-result").tBodies[0].replaceChildren(body);
    $("sql-chart").hidden = !chart;
    $("sql-chart").innerHTML = chart || "";
    const rows = answer.rows.length.toLocaleString();
    const cut = answer.truncated ? ` (cut at ${rows}: more rows matched)` : "";
    status(`${rows} row${answer.rows.length === 1 ? "" : "s"}${cut} · ${answer.elapsed_ms} ms · ${answer.rows_read.toLocaleString()} rows read`);
    $("sql-copy").disabled = $("sql-csv").disabled = false;
  }

  async function run() {
    const query = $("sql-editor").value;
    if (!query.trim()) return status("Write a statement first, e.g. SELECT count() FROM events", true);
    status("Running…");
    $("sql-run").disabled = true;
    try {
      show(await invoke("run_sql", { query }));
    } catch (error) {
      status(String(error), true);
    } finally {
      $("sql-run").disabled = false;
    }
  }

  function listSaved(saved) {
    if (JSON.stringify(saved) === listed.saved) return;
    listed.saved = JSON.stringify(saved);
    const items = saved.map((q) => {
      const li = document.createElement("li");
      const open = document.createElement("button");
      open.type = "button";
      open.className = "open";
      open.id = `sql-open-${q.id}`;
      open.textContent = q.name;
      open.title = q.query;
      open.addEventListener("click", () => {
        $("sql-editor").value = q.query;
        $("sql-name").value = q.name;
        run();
      });
      const remove = document.createElement("button");
      remove.type = "button";
      remove.id = `sql-delete-${q.id}`;
      remove.textContent = "✕";
      remove.title = `Delete "${q.name}"`;
      remove.addEventListener("click", async () => {
        try {
          listSaved(await invoke("delete_sql", { id: q.id }));
        } catch (error) {
          status(String(error), true);
        }
      });
      li.append(open, remove);
      return li;
    });
    $("sql-saved").replaceChildren(...items);
  }

  function listTables(tables) {
    if (JSON.stringify(tables) === listed.tables) return;
    listed.tables = JSON.stringify(tables);
    const items = tables.map((table) => {
      const details = document.createElement("details");
      const summary = document.createElement("summary");
      summary.textContent = table.name;
      const columns = document.createElement("ul");
      columns.className = "plain";
      for (const column of table.columns) {
        const li = document.createElement("li");
        const name = document.createElement("b");
        name.textContent = column.name;
        li.append(name, ` ${column.type}`);
        columns.append(li);
      }
      details.append(summary, columns);
      details.open = table.name === "events";
      return details;
    });
    $("sql-tables").replaceChildren(...items);
  }

  // An id for a saved query from its name: lower-case words joined by "-".
  const idOf = (name) =>
    name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64) || "query";

  $("sql-run").addEventListener("click", run);
  $("sql-editor").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      run();
    }
  });
  $("sql-save").addEventListener("click", async () => {
    const name = $("sql-name").value.trim();
    if (!name) return status("Give the query a name to save it under", true);
    try {
      listSaved(await invoke("save_sql", { id: idOf(name), name, query: $("sql-editor").value }));
      status(`Saved as "${name}"`);
    } catch (error) {
      status(String(error), true);
    }
  });
  $("sql-copy").addEventListener("click", async () => {
    const lines = [last.columns.map((c) => c.name), ...last.rows].map((row) =>
      row.map((v) => (v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v))).join("\t"));
    try {
      await navigator.clipboard.writeText(lines.join("\n"));
      status(`Copied ${last.rows.length.toLocaleString()} rows as tab-separated text`);
    } catch (error) {
      status(`Cannot copy: ${error}`, true);
    }
  });
  $("sql-csv").addEventListener("click", async () => {
    try {
      status(`Saved ${await invoke("save_sql_csv", { query: $("sql-editor").value })}`);
    } catch (error) {
      status(String(error), true);
    }
  });

  $("view-sql").addEventListener("view-shown", async () => {
    try {
      const console = await invoke("sql_console");
      $("sql-timeout").textContent = `${console.timeout_s} s`;
      $("sql-max-rows").textContent = console.max_rows.toLocaleString();
      listSaved(console.saved);
      listTables(console.tables);
      if (!opened && console.last && !$("sql-editor").value) $("sql-editor").value = console.last;
      opened = true;
    } catch (error) {
      status(String(error), true);
    }
  });
})();
