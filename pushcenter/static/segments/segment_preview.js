// The segment page checks the definition on the server as the marketer types (debounced), then
// shows the error at its line and column, or the count and a sample of matching devices.
"use strict";

(function () {
  const panel = document.getElementById("segment-preview");
  if (!panel) return;
  const form = panel.closest("form");
  const fields = ["app", "definition", "custom_property_types"].map((n) => form.elements[n]);
  const status = document.getElementById("segment-status");
  const sample = document.getElementById("segment-sample");
  const propertyList = document.getElementById("segment-property-list");
  let timer = null;
  let latest = 0;

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(check, 350);
  }

  async function check() {
    const request = ++latest;
    const body = new FormData();
    fields.forEach((field) => field && body.append(field.name, field.value));
    body.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
    status.classList.remove("invalid");
    status.textContent = "Checking…";
    const response = await fetch(panel.dataset.url, { method: "POST", body: body, credentials: "same-origin" });
    if (request !== latest) return; // a newer check is under way
    if (!response.ok) {
      status.textContent = "The check failed (" + response.status + ").";
      return;
    }
    show(await response.json());
  }

  function show(result) {
    showProperties(result.properties || []);
    const definition = form.elements.definition.value.trim();
    if (result.error || !definition) {
      status.classList.toggle("invalid", Boolean(result.error && definition));
      status.textContent = definition ? result.error.message : "Type a definition to see who it reaches.";
      sample.hidden = true;
      return;
    }
    status.innerHTML = "";
    const count = document.createElement("span");
    count.className = "count";
    count.id = "segment-count";
    count.textContent = result.count.toLocaleString();
    status.append(count, document.createTextNode(result.count === 1 ? " active device matches" : " active devices match"));
    showSample(result.sample);
  }

  function showSample(rows) {
    const tbody = sample.querySelector("tbody");
    tbody.replaceChildren(...rows.map((row) => {
      const tr = document.createElement("tr");
      [row.install_id, row.user_id || "", row.platform, row.carrier_country, row.app_version, row.locale]
        .forEach((text) => { const td = document.createElement("td"); td.textContent = text; tr.append(td); });
      return tr;
    }));
    sample.hidden = rows.length === 0;
  }

  function showProperties(properties) {
    propertyList.replaceChildren(...properties.map((property) => {
      const li = document.createElement("li");
      const name = document.createElement("code");
      name.textContent = property.name;
      name.title = property.description || "Insert into the definition";
      name.addEventListener("click", () => insert(property.name));
      const type = document.createElement("span");
      type.className = "type";
      type.textContent = property.type;
      li.append(name, type);
      return li;
    }));
  }

  function insert(text) {
    const area = form.elements.definition;
    const at = area.selectionStart ?? area.value.length;
    area.value = area.value.slice(0, at) + text + area.value.slice(area.selectionEnd ?? at);
    area.focus();
    schedule();
  }

  document.querySelectorAll("#segment-behaviour-examples code").forEach((example) => {
    example.title = "Insert into the definition";
    example.addEventListener("click", () => insert(example.textContent));
  });
  fields.forEach((field) => field && field.addEventListener("input", schedule));
  fields.forEach((field) => field && field.addEventListener("change", schedule));
  check();
})();
