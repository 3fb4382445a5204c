// The template picker: choosing another app reloads the templates for it. A listener here, not
// an onchange attribute, because the Content-Security-Policy runs no inline handlers.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const app = document.getElementById("id_app");
  if (app) {
    app.addEventListener("change", () => app.form.submit());
  }
});
