// While a notification sends, refresh its delivery counts and status every two seconds.
"use strict";

(function () {
  const counts = document.querySelector("[data-progress-url]");
  if (!counts || counts.dataset.live !== "true") return;
  const paused = document.querySelector(".progress-paused");
  const retries = document.querySelector(".progress-retries");
  // The status shows twice: above the form and in its field; both follow the same answer.
  const statuses = document.querySelectorAll(".field-status .readonly, .notification-status strong");
  const INTERVAL_MS = 2000;

  async function refresh() {
    let report;
    try {
      const response = await fetch(counts.dataset.progressUrl, { credentials: "same-origin" });
      if (!response.ok) throw new Error(response.statusText);
      report = await response.json();
    } catch (error) {
      setTimeout(refresh, INTERVAL_MS * 5);
      return;
    }
    counts.textContent = report.text;
    if (paused) paused.textContent = " " + report.paused.join(" ");
    if (retries) retries.textContent = report.retries;
    statuses.forEach((status) => (status.textContent = report.status_label));
    counts.dataset.live = report.live ? "true" : "false";
    if (report.live) setTimeout(refresh, INTERVAL_MS);
  }

  setTimeout(refresh, INTERVAL_MS);
})();
