// Live progress of running scans: poll each running row's JSON endpoint until the scan finishes.
"use strict";
(function () {
  const POLL_MS = 1500;
  function describe(scan) {
    if (scan.status !== "running") {
      const incomplete = scan.sources.filter(function (s) { return s.state !== "complete"; }).length;
      return incomplete + " incomplete source(s)";
    }
    if (!scan.progress) { return "starting…"; }
    const p = scan.progress;
    return p.stage + (p.total ? " " + p.done + "/" + p.total : "");
  }
  function set(row, field, text) {
    const cell = row.querySelector('[data-field="' + field + '"]');
    if (cell) { cell.textContent = text; }
  }
  function poll(row) {
    const url = row.getAttribute("data-progress-url");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (scan) {
        const status = row.querySelector('[data-field="status"]');
        status.textContent = scan.status;
        status.className = "status status-" + scan.status;
        set(row, "progress", describe(scan));
        set(row, "new", String(scan.new));
        set(row, "reopened", String(scan.reopened));
        set(row, "resolved", String(scan.resolved));
        if (scan.finished_at) { set(row, "finished", scan.finished_at.replace("T", " ").slice(0, 16) + " UTC"); }
        if (scan.status === "running") { window.setTimeout(function () { poll(row); }, POLL_MS); }
        else { row.removeAttribute("data-progress-url"); }
      })
      .catch(function () { window.setTimeout(function () { poll(row); }, POLL_MS * 4); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("tr[data-progress-url]").forEach(poll);
  });
})();
