// The app page's setup checklist updates itself: while a step is open or a credential is being
// checked, it asks the server for the checklist every few seconds and shows what came back.
"use strict";

const SETUP_POLL_MS = 3000;

function pollSetupStatus(panel) {
  if (panel.dataset.open !== "true") return;
  window.setTimeout(async () => {
    try {
      const response = await fetch(panel.dataset.url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.ok) {
        const status = await response.json();
        // Rendered and escaped by the server's template, as on the page itself.
        panel.innerHTML = status.html;
        panel.dataset.open = String(!status.ready || status.checking);
      }
    } finally {
      pollSetupStatus(panel);
    }
  }, SETUP_POLL_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  const panel = document.getElementById("setup-status");
  if (panel) pollSetupStatus(panel);
});
