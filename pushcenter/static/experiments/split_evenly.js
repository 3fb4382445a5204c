// Split evenly fills the variants' share inputs in the page from the holdout as typed, so
// nothing else the marketer typed or changed is lost; saving stays the marketer's choice. The
// rule is experiments.services.even_split's: what the holdout leaves, shared equally, with
// variant A taking the remainder. A holdout that is not a whole number from 0 to the maximum
// is left to the server, whose answer names the field.
"use strict";

(function () {
  const button = document.getElementById("split-evenly-button");
  if (!button || !button.form) return;
  const form = button.form;
  const status = document.getElementById("split-evenly-status");

  function shareInputs() {
    const inputs = Array.from(form.querySelectorAll('input[name^="split_"]'));
    return inputs.sort((a, b) => a.name.localeCompare(b.name));
  }

  function typedHoldout() {
    const input = form.elements.holdout_percent;
    const text = input ? input.value.trim() : "0";
    const holdout = Number(text);
    const allowed = /^\d+$/.test(text) && holdout <= Number(button.dataset.maxHoldout);
    return allowed ? holdout : null;
  }

  button.addEventListener("click", function (event) {
    const holdout = typedHoldout();
    const inputs = shareInputs();
    if (holdout === null || !inputs.length) return; // submitted: the server says why
    event.preventDefault();
    const left = 100 - holdout;
    const share = Math.floor(left / inputs.length);
    const split = inputs.map((input, index) => {
      input.value = String(share + (index === 0 ? left % inputs.length : 0));
      input.dispatchEvent(new Event("input", { bubbles: true }));
      return `${input.name.slice("split_".length)} ${input.value}%`;
    });
    if (status) status.textContent = `Split evenly: ${split.join(", ")}. Save to keep it.`;
  });
})();
