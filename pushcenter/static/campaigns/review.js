// Send or Schedule opens a review of what would be queued; only its Confirm button queues it.
// The server answers the review with a digest of the form as reviewed, and queues the send only
// when the confirmed form has that digest (campaigns/review.py), so an edit needs a new review.
"use strict";

(function () {
  const button = document.getElementById("schedule-button");
  const dialog = document.getElementById("review-dialog");
  const form = button && button.form;
  if (!form || !dialog) return;
  const body = document.getElementById("review-body");
  const digest = document.getElementById("review-digest");
  const confirm = document.getElementById("confirm-button");
  const composer = document.getElementById("composer");

  async function openReview(event) {
    event.preventDefault();
    const data = new FormData(form);
    data.set("notification_id", (composer && composer.dataset.notificationId) || "");
    let answer;
    try {
      const response = await fetch(button.dataset.reviewUrl, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-Requested-With": "XMLHttpRequest" },
      });
      if (!response.ok) throw new Error(`The review failed (${response.status}); try again.`);
      answer = await response.json();
    } catch (error) {
      return showProblem(error.message);
    }
    // A form with problems goes to the server as it is, which shows each at its field (and,
    // the form being invalid, saves nothing).
    if (!answer.valid) return form.requestSubmit(button);
    body.innerHTML = answer.html; // rendered by the server's template, which escapes every value
    digest.value = answer.digest;
    digest.disabled = false;
    confirm.hidden = false;
    confirm.textContent = answer.confirm;
    dialog.showModal();
    confirm.focus();
  }

  function showProblem(message) {
    body.replaceChildren(document.createElement("p"));
    body.firstChild.textContent = message;
    confirm.hidden = true;
    dialog.showModal();
  }

  // A review left unconfirmed confirms nothing later.
  dialog.addEventListener("close", () => {
    digest.disabled = true;
    digest.value = "";
  });
  button.addEventListener("click", openReview);
})();
