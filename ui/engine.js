// The first-start page: the embedded engine's library is missing; fetch it with progress and a
// cancel, then move to the dashboard. What to fetch, where, and every message come from Rust.
"use strict";

const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;

const $ = (id) => document.getElementById(id);
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

function show(progress) {
  const bar = $("engine-bar");
  bar.hidden = false;
  // Only the download can be cancelled; checking and unpacking finish in seconds.
  $("engine-cancel").hidden = progress.phase !== "downloading";
  if (progress.phase === "downloading") {
    const total = progress.total || 0;
    bar.max = total || 1;
    if (total) bar.value = progress.done;
    else bar.removeAttribute("value");
    const percent = total ? ` (${Math.floor((progress.done * 100) / total)} %)` : "";
    $("engine-progress").textContent = total
      ? `Downloading: ${mb(progress.done)} of ${mb(total)}${percent}`
      : `Downloading: ${mb(progress.done)}`;
  } else {
    // Checking and unpacking take seconds and report no fraction.
    bar.removeAttribute("value");
    $("engine-progress").textContent =
      progress.phase === "verifying" ? "Checking the download's fingerprint…" : "Installing…";
  }
}

function busy(running) {
  $("engine-install").disabled = running;
  $("engine-cancel").hidden = !running;
}

async function install() {
  busy(true);
  $("engine-error").hidden = true;
  try {
    await invoke("engine_install");
    $("engine-progress").textContent = "Installed. Starting the dashboard…";
    window.location.replace("index.html");
  } catch (error) {
    busy(false);
    $("engine-bar").hidden = true;
    $("engine-progress").textContent = "";
    $("engine-error").textContent = String(error);
    $("engine-error").hidden = false;
    $("engine-install").textContent = "Try again";
  }
}

async function load() {
  const missing = await invoke("engine_missing");
  const status = missing.status;
  $("engine-version").textContent = status.version;
  $("download-mb").textContent = missing.download_mb;
  $("installed-mb").textContent = missing.installed_mb;
  $("install-path").textContent = status.install_path;
  $("engine-url").textContent = status.url;
  $("save-as").textContent = status.save_as;
  $("searched").textContent = missing.searched.join(", ");
  if (status.partial_bytes) {
    $("engine-install").textContent = `Resume the download (${mb(status.partial_bytes)} kept)`;
  }
}

$("engine-install").addEventListener("click", install);
$("engine-cancel").addEventListener("click", () => invoke("engine_cancel"));
listen("engine-progress", (event) => show(event.payload));
load().catch((error) => {
  $("engine-error").textContent = String(error);
  $("engine-error").hidden = false;
  $("engine-install").disabled = true;
});
