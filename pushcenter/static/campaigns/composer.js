// The composer shows the notification as it would go out while the marketer writes it: the server
// checks the form and renders every payload (debounced); this script shows its answer beside the
// form, keeps one tab per content language, fills in machine translations nobody has touched, and
// hides the options that do not apply. A read-only notification has no inputs: every lookup is
// guarded, and nothing is asked of the server.
"use strict";

(function () {
  const composer = document.getElementById("composer");
  const panel = document.getElementById("composer-preview");
  const form = composer && composer.closest("form");
  if (!panel || !form) return;

  const PLATFORMS = ["ios", "android", "windows"];
  const TAP_ROWS = ["image_url", "on_click", "url", "ios_url", "android_url", "sound", "track_launches"];
  const DEBOUNCE_MS = 300;
  const EDITED_NOTE = "You edited this translation; it will be kept as yours (overridden).";
  // Languages the marketer typed in during this visit: their text is theirs, never replaced.
  const edited = new Set();
  const state = { timer: null, latest: 0, answer: null, language: "", platform: "ios" };

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

  function make(tag, className, text) {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function setText(root, selector, text) {
    const element = root && $(selector, root);
    if (!element) return;
    element.textContent = text || "";
    element.hidden = !text;
  }

  // ---- The form's fields -------------------------------------------------------------------

  function inputs(name) {
    return $$(`input[name="${name}"]`, form);
  }

  /** The checked value of a radio list: null when the list is not editable here. */
  function choice(name) {
    const radios = inputs(name);
    if (radios.length === 0) return null;
    const checked = radios.find((radio) => radio.checked);
    return checked ? checked.value : "";
  }

  function checkedValues(name) {
    return inputs(name).filter((box) => box.checked).map((box) => box.value);
  }

  function row(name) {
    return $(`.form-row.field-${name}`, form);
  }

  function showRow(name, visible) {
    const element = row(name);
    if (element) element.hidden = !visible;
  }

  /** The element holding one option of a checkbox list, label and all. */
  function optionItem(input) {
    const label = input.closest("label");
    return (label && label.parentElement) || input.parentElement;
  }

  function fieldLabel(name) {
    const label = $(`label[for="id_${name}"]`, form) || $(`.form-row.field-${name} label`, form);
    const text = label ? label.textContent.trim().replace(/:$/, "") : name;
    const languagePanel = label && label.closest(".language-panel");
    return languagePanel ? `${text} (${languagePanel.dataset.name})` : text;
  }

  let lastAppName = "";

  function appName() {
    if (lastAppName) return lastAppName;
    const select = $("#id_app");
    if (select && select.selectedIndex >= 0 && select.value) return select.options[select.selectedIndex].text;
    const readonly = $(".field-app .readonly", form);
    return readonly ? readonly.textContent.trim() : "Your app";
  }

  // ---- Rows that apply ---------------------------------------------------------------------

  function updateRows() {
    showRowsFor(choice("target_kind"), {
      segments: "segments",
      install_ids: "install_ids",
      user_ids: "user_ids",
      account_ids: "account_ids",
    });
    showRowsFor(choice("schedule_kind"), { send_at: "at", local_send_at: "local" });
    const neverExpires = $("#id_never_expires");
    if (neverExpires) showRow("expires_at", !neverExpires.checked);
    const onClick = choice("on_click");
    if (onClick !== null) ["url", "ios_url", "android_url"].forEach((name) => showRow(name, onClick !== "app"));
    updatePlatformRows();
    updateScheduleButton();
  }

  /** Show each row only when the radio list's value is the one it belongs to. */
  function showRowsFor(value, rowValues) {
    if (value === null) return;
    Object.entries(rowValues).forEach(([name, wanted]) => showRow(name, value === wanted));
  }

  function updatePlatformRows() {
    if (inputs("platforms").length) {
      const platforms = checkedValues("platforms");
      PLATFORMS.forEach((platform) => {
        const fieldset = $(`fieldset.${platform}-options`, form);
        if (fieldset) fieldset.hidden = !platforms.includes(platform);
      });
    }
    const template = $("#id_template");
    if (!template) return;
    const tile = template.value === "tile";
    showRow("tile_bindings", tile);
    showRow("inputs", !tile && !showsNothing());
    showRow("actions", !tile && !showsNothing());
    // What a tap, an alert's sound or its image would do is moot when nothing is shown.
    if (showsNothing()) TAP_ROWS.forEach((name) => showRow(name, false));
  }

  /** Whether the template is Silent or Badge only: no alert, so no text, tap or sound. */
  function showsNothing() {
    const template = $("#id_template");
    return Boolean(template) && ["silent", "badge"].includes(template.value);
  }

  function updateScheduleButton() {
    const button = $("#schedule-button");
    const kind = choice("schedule_kind");
    // "Review and keep scheduled" edits a notification already scheduled; its label stays.
    if (!button || kind === null || button.value.startsWith("Review")) return;
    button.value = kind === "now" ? "Send" : "Schedule";
  }

  /** Hide the segments of other apps; a ticked one stays visible so it can be unticked. */
  function filterSegments(ids) {
    if (!Array.isArray(ids)) return;
    const ofApp = new Set(ids.map(String));
    inputs("segments").forEach((box) => {
      optionItem(box).hidden = !ofApp.has(box.value) && !box.checked;
    });
  }

  // ---- Content languages -------------------------------------------------------------------

  function languagePanels() {
    return $$(".language-panel", form);
  }

  function languagePanel(code) {
    return languagePanels().find((element) => element.dataset.language === code) || null;
  }

  function defaultLanguage() {
    const select = $("#id_default_language");
    if (select) return select.value;
    const first = languagePanels()[0];
    return first ? first.dataset.language : "";
  }

  function contentLanguages() {
    const main = defaultLanguage();
    const boxes = inputs("languages");
    const added = boxes.length ? checkedValues("languages") : languagesWithText();
    return [main, ...added.filter((code) => code !== main)].filter(Boolean);
  }

  // Read-only, the languages list is no checkbox list; a language with text is one it has.
  function languagesWithText() {
    return languagePanels()
      .filter((element) => $$("[data-text], .readonly", element).some(hasText))
      .map((element) => element.dataset.language);
  }

  function hasText(field) {
    const text = ("value" in field ? field.value : field.textContent).trim();
    return text !== "" && text !== "-"; // the admin shows an empty read-only value as "-"
  }

  function languageName(code) {
    const element = languagePanel(code);
    return element ? element.dataset.name : code;
  }

  function currentLanguage() {
    const codes = contentLanguages();
    return codes.includes(state.language) ? state.language : codes[0] || "";
  }

  function buildLanguageTabs() {
    const codes = contentLanguages();
    const tabs = $("#language-tabs");
    if (tabs) tabs.replaceChildren(...codes.map(languageTab));
    const select = $("#preview-language");
    if (select) select.replaceChildren(...codes.map(languageOption));
    hideDefaultLanguageBox();
    showLanguage(currentLanguage());
  }

  function languageTab(code) {
    const button = make("button", "language-tab", languageName(code));
    button.type = "button";
    button.setAttribute("role", "tab");
    button.dataset.language = code;
    button.setAttribute("aria-controls", languagePanel(code)?.id || "");
    button.addEventListener("click", () => showLanguage(code));
    return button;
  }

  function languageOption(code) {
    const option = make("option", "", languageName(code));
    option.value = code;
    return option;
  }

  // The default language is always there; ticking it as an added one would mean nothing.
  function hideDefaultLanguageBox() {
    const main = defaultLanguage();
    inputs("languages").forEach((box) => {
      optionItem(box).hidden = box.value === main;
    });
  }

  function showLanguage(code) {
    state.language = code;
    languagePanels().forEach((element) => {
      element.hidden = element.dataset.language !== code;
    });
    $$("#language-tabs [data-language]").forEach((tab) => {
      const active = tab.dataset.language === code;
      tab.classList.toggle("active", active);
      tab.setAttribute("aria-selected", String(active));
      tab.tabIndex = active ? 0 : -1;
    });
    const select = $("#preview-language");
    if (select && select.value !== code) select.value = code;
    showPreview();
  }

  // ---- Add languages, in a dialog ----------------------------------------------------------

  function setUpLanguageDialog() {
    const list = $("#id_languages");
    const languagesRow = row("languages");
    if (!list || !languagesRow || typeof HTMLDialogElement === "undefined") return;
    const dialog = languageDialog();
    const open = make("button", "add-languages-button", "Add languages");
    open.type = "button";
    open.id = "add-languages-button";
    open.addEventListener("click", () => dialog.showModal());
    list.before(open);
    dialog.insertBefore(list, $(".add-languages-footer", dialog));
    languagesRow.append(dialog);
    // Escape closes it too; either way the tabs and the preview follow the ticks.
    dialog.addEventListener("close", () => {
      buildLanguageTabs();
      requestPreview();
    });
  }

  function languageDialog() {
    const dialog = make("dialog", "add-languages-dialog");
    dialog.id = "add-languages-dialog";
    dialog.setAttribute("aria-labelledby", "add-languages-heading");
    const heading = make("h2", "", "Add languages");
    heading.id = "add-languages-heading";
    const help = make("p", "help", "Tick the languages to add; untick one to remove it. They are translated automatically from the default language.");
    const footer = make("div", "add-languages-footer");
    const update = make("button", "add-languages-update", "Update");
    update.type = "button";
    update.id = "add-languages-update";
    update.addEventListener("click", () => dialog.close());
    footer.append(update);
    dialog.append(heading, help, footer);
    return dialog;
  }

  // ---- Translations ------------------------------------------------------------------------

  function noteTranslationEdit(field) {
    const element = field.closest(".language-panel");
    if (!element || !field.dataset.text) return;
    const code = element.dataset.language;
    if (code === defaultLanguage() || edited.has(code)) return;
    edited.add(code);
    const note = $(".translation-note", element);
    if (note && !element.dataset.overridden) note.textContent = EDITED_NOTE;
  }

  /** When the default text changes, name the overridden languages that will not follow it. */
  function noteStaleOverrides(field) {
    const element = field.closest(".language-panel");
    if (!element || !field.dataset.text || element.dataset.language !== defaultLanguage()) return;
    const stale = contentLanguages().filter((code) => {
      const other = languagePanel(code);
      return code !== defaultLanguage() && other && other.dataset.overridden && !isMachineTranslated(code);
    });
    let note = $("#stale-overrides", form);
    if (!stale.length) {
      if (note) note.hidden = true;
      return;
    }
    if (!note) note = staleOverridesNote();
    element.append(note);
    const names = stale.map(languageName).join(", ");
    $(".stale-names", note).textContent = `${names}: your own translation${stale.length > 1 ? "s" : ""} will not follow this change.`;
    note.dataset.languages = stale.join(" ");
    note.hidden = false;
  }

  function staleOverridesNote() {
    const note = make("p", "help stale-overrides");
    note.id = "stale-overrides";
    note.setAttribute("role", "status");
    const follow = make("button", "stale-follow", "Translate them automatically again");
    follow.type = "button";
    follow.addEventListener("click", () => {
      note.dataset.languages.split(" ").forEach((code) => {
        const revert = $(`input[name="revert_languages"][value="${code}"]`, form);
        if (!revert || revert.checked) return;
        revert.checked = true;
        revert.dispatchEvent(new Event("change", { bubbles: true }));
      });
      note.hidden = true;
    });
    note.append(make("span", "stale-names"), " ", follow);
    return note;
  }

  /** A translation is the machine's unless it was overridden and not sent back to it. */
  function isMachineTranslated(code) {
    const element = languagePanel(code);
    if (!element || code === defaultLanguage() || edited.has(code)) return false;
    const revert = $(`input[name="revert_languages"][value="${code}"]`, element);
    return !element.dataset.overridden || Boolean(revert && revert.checked);
  }

  // Every translated field carries data-text: the title, subtitle and message by name, and each
  // Windows text (button label, input text, tile line) by its slot key, such as action.0.content.
  function fillTranslations(translations) {
    if (!translations || typeof translations !== "object") return;
    Object.entries(translations).forEach(([code, values]) => {
      if (!values || !isMachineTranslated(code)) return;
      $$("[data-text]", languagePanel(code)).forEach((field) => {
        const value = values[field.dataset.text];
        if (typeof value === "string" && "value" in field) field.value = value;
      });
    });
  }

  // The server tells the marketer's own translation from the machine's by comparing texts, and a
  // machine text filled in before the default text changed would look like an edit. Untouched
  // translations are therefore sent empty (in previews and on save) and the server translates.
  function leaveTranslationsToServer(event) {
    languagePanels().forEach((element) => {
      if (!isMachineTranslated(element.dataset.language)) return;
      $$("[data-text]", element).forEach((field) => field.name && event.formData.set(field.name, ""));
    });
  }

  // ---- Asking the server -------------------------------------------------------------------

  function isReadOnly() {
    return !$("#id_app");
  }

  function schedulePreview() {
    clearTimeout(state.timer);
    state.timer = setTimeout(requestPreview, DEBOUNCE_MS);
  }

  async function requestPreview() {
    clearTimeout(state.timer);
    const request = ++state.latest;
    // A read-only notification is previewed as stored: the server reads it by its id alone.
    const body = isReadOnly() ? csrfOnly() : new FormData(form);
    body.set("notification_id", composer.dataset.notificationId || "");
    const previewAs = $("#preview-as");
    body.set("preview_as", previewAs ? previewAs.value : "");
    let result;
    try {
      result = await fetchPreview(body);
    } catch (error) {
      if (request === state.latest) showFailure(error.message);
      return;
    }
    if (request === state.latest) render(result); // otherwise a newer preview is under way
  }

  async function fetchPreview(body) {
    const response = await fetch(composer.dataset.previewUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-Requested-With": "XMLHttpRequest" },
    });
    if (!response.ok) throw new Error(`The preview failed (${response.status}); try again in a moment.`);
    return response.json();
  }

  function csrfOnly() {
    const body = new FormData();
    const token = $("input[name=csrfmiddlewaretoken]", form);
    if (token) body.set("csrfmiddlewaretoken", token.value);
    return body;
  }

  function showFailure(message) {
    const estimate = $("#audience-estimate");
    if (estimate) estimate.textContent = message || "The preview could not be reached.";
  }

  // ---- Showing the answer ------------------------------------------------------------------

  function render(result) {
    lastAppName = result.app_name || "";
    state.answer = result;
    showEstimate(result.estimate);
    showList($("#preview-errors"), errorLines(result.errors || {}));
    showList($("#preview-warnings"), Array.isArray(result.warnings) ? result.warnings : []);
    filterSegments(result.segment_ids);
    fillTranslations(result.translations);
    showPreview();
  }

  function showEstimate(estimate) {
    const line = $("#audience-estimate");
    if (!line) return;
    line.classList.toggle("unknown", !estimate || typeof estimate.count !== "number");
    if (!estimate) line.textContent = "Choose an app to see who it reaches.";
    else if (typeof estimate.count !== "number") line.textContent = estimate.message || "The audience is unknown.";
    else line.textContent = audienceText(estimate.count) + heldBackText(estimate.held_back);
  }

  function heldBackText(held) {
    if (!held) return "";
    const devices = held === 1 ? "device" : "devices";
    return ` Sent now, the app's frequency caps and quiet hours would hold back ${held.toLocaleString("en")} ${devices} of them.`;
  }

  function audienceText(count) {
    const devices = count === 1 ? "active device" : "active devices";
    return `Reaches about ${count.toLocaleString("en")} ${devices}.`;
  }

  function errorLines(errors) {
    return Object.entries(errors).flatMap(([name, messages]) =>
      (Array.isArray(messages) ? messages : [messages]).map((message) =>
        name === "__all__" ? String(message) : `${fieldLabel(name)}: ${message}`
      )
    );
  }

  function showList(list, lines) {
    if (!list) return;
    list.replaceChildren(...lines.map((line) => make("li", "", line)));
    list.hidden = lines.length === 0;
  }

  /** Show the current language's mockups and payloads from the last answer. */
  function showPreview() {
    const previews = (state.answer && state.answer.previews) || {};
    const content = previews[currentLanguage()] || null;
    const payloads = (content && content.payloads) || {};
    const shown = PLATFORMS.filter((platform) => payloads[platform]);
    if (!shown.includes(state.platform) && shown.length) state.platform = shown[0];
    showPlatformTabs(shown);
    PLATFORMS.forEach((platform) => showPayload(platform, payloads[platform]));
    setText(panel, ".preview-sample", (state.answer && state.answer.samples || {})[state.platform]);
    if (!content) return;
    // A silent or badge-only notification shows no alert: a sentence says what it does instead.
    setText(panel, "#preview-unseen", content.unseen);
    if (content.unseen) $$(".preview-mockup", panel).forEach((mockup) => (mockup.hidden = true));
    showMockup($("#preview-ios"), textsFor(content, "ios"), content.image_url);
    showMockup($("#preview-android"), textsFor(content, "android"), content.image_url);
    showWindows(content);
  }

  /** Each platform's texts are personalized for its own sample device. */
  function textsFor(content, platform) {
    return (content.texts && content.texts[platform]) || content;
  }

  function showPlatformTabs(shown) {
    $$("#preview-platform-tabs [data-platform]").forEach((tab) => {
      const active = tab.dataset.platform === state.platform;
      tab.hidden = !shown.includes(tab.dataset.platform);
      tab.classList.toggle("active", active);
      tab.setAttribute("aria-selected", String(active));
      tab.tabIndex = active ? 0 : -1;
    });
    PLATFORMS.forEach((platform) => {
      const mockup = $(`#preview-${platform}`);
      if (mockup) mockup.hidden = platform !== state.platform || !shown.includes(platform);
    });
  }

  function showMockup(mockup, texts, image) {
    if (!mockup) return;
    setText(mockup, ".preview-app", appName());
    setText(mockup, ".preview-title", texts.title);
    setText(mockup, ".preview-subtitle", texts.subtitle);
    setText(mockup, ".preview-body", texts.body);
    showImage($(".preview-image", mockup), image);
  }

  // Only a web image can be shown here; ms-appx: and the like live on the device.
  function showImage(image, url) {
    if (!image) return;
    const shown = typeof url === "string" && /^https?:\/\//i.test(url);
    image.hidden = !shown;
    if (shown && image.getAttribute("src") !== url) image.src = url;
    if (!shown) image.removeAttribute("src");
  }

  function showWindows(content) {
    const mockup = $("#preview-windows");
    const windows = content.windows || {};
    if (!mockup) return;
    const tile = windows.kind === "tile";
    const toast = $(".preview-toast", mockup);
    const tiles = $(".preview-tiles", mockup);
    if (toast) toast.hidden = tile;
    if (tiles) tiles.hidden = !tile;
    if (tile) showTiles(tiles, windows.tiles);
    else showToast(toast, content, windows);
  }

  function showToast(toast, content, windows) {
    if (!toast) return;
    const texts = textsFor(content, "windows");
    showMockup(toast, { title: texts.title, body: texts.body }, windows.image);
    const fields = $(".preview-inputs", toast);
    const buttons = $(".preview-actions", toast);
    if (fields) fields.replaceChildren(...listOf(windows.inputs).map(toastInput));
    if (buttons) buttons.replaceChildren(...listOf(windows.actions).map(toastAction));
  }

  function listOf(value) {
    return Array.isArray(value) ? value.filter((item) => item && typeof item === "object") : [];
  }

  function toastInput(item) {
    const wrapper = make("div", "preview-input");
    if (item.title) wrapper.append(make("span", "preview-input-title", item.title));
    wrapper.append(item.type === "selection" ? selectionBox(item) : textBox(item));
    return wrapper;
  }

  // The preview's own controls have no name, so the form never submits them.
  function textBox(item) {
    const box = make("input");
    box.type = "text";
    box.disabled = true;
    box.placeholder = item.placeholder || "";
    box.value = item.default || "";
    box.setAttribute("aria-label", item.title || item.placeholder || item.id || "Input");
    return box;
  }

  function selectionBox(item) {
    const box = make("select");
    box.disabled = true;
    box.setAttribute("aria-label", item.title || item.id || "Selection");
    listOf(item.selections).forEach((selection) => {
      const option = make("option", "", selection.content);
      option.value = selection.id;
      option.selected = selection.id === item.default;
      box.append(option);
    });
    return box;
  }

  function toastAction(item) {
    return make("span", "preview-action", item.content);
  }

  function showTiles(tiles, bindings) {
    if (!tiles) return;
    const boxes = listOf(bindings).map(tileBox);
    tiles.replaceChildren(...(boxes.length ? boxes : [make("p", "help", "Add tile bindings to see the tiles.")]));
  }

  function tileBox(binding) {
    const tile = make("div", "preview-tile");
    tile.dataset.size = binding.size;
    tile.title = `${binding.size} tile`;
    const image = make("img", "preview-tile-image");
    image.alt = "";
    image.addEventListener("error", () => { image.hidden = true; });
    showImage(image, binding.image);
    tile.append(image, ...tileTexts(binding));
    if (binding.size !== "small") tile.append(make("span", "preview-tile-name", appName()));
    return tile;
  }

  function tileTexts(binding) {
    const texts = Array.isArray(binding.texts) ? binding.texts : [];
    return texts.filter(Boolean).map((text) => make("span", "preview-tile-text", text));
  }

  function showPayload(platform, payload) {
    const box = $(`#payload-${platform}`);
    if (!box) return;
    box.hidden = !payload;
    if (!payload) return;
    if (payload.provider) setText(box, ".payload-provider", payload.provider);
    const size = $(".payload-size", box);
    if (size) {
      size.textContent = sizeLine(payload);
      size.classList.toggle("over", Boolean(payload.error));
    }
    showHeaders($(".payload-headers", box), payload.headers || {});
    const text = $(".payload-text", box);
    if (text) {
      text.textContent = prettyPayload(payload.text || "");
      text.hidden = !payload.text;
    }
  }

  function sizeLine(payload) {
    if (typeof payload.size !== "number") return payload.error || "";
    const line = `${payload.size.toLocaleString("en")} / ${payload.limit.toLocaleString("en")} bytes`;
    return payload.error ? `${line} — ${payload.error}` : line;
  }

  function showHeaders(list, headers) {
    if (!list) return;
    list.replaceChildren(...Object.entries(headers).flatMap(([name, value]) => [make("dt", "", name), make("dd", "", String(value))]));
    list.hidden = list.children.length === 0;
  }

  // JSON is indented to be read; the size above is the server's, of the bytes as sent.
  function prettyPayload(text) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch (notJson) {
      return text; // WNS sends XML, shown as it goes out
    }
  }

  // ---- Wiring ------------------------------------------------------------------------------

  function onFormEdit(event) {
    const target = event.target;
    // The preview's own controls are not the notification; the dialog applies on Update.
    if (!(target instanceof Element) || panel.contains(target) || target.closest("dialog")) return;
    if (event.type === "input") {
      noteTranslationEdit(target);
      noteStaleOverrides(target);
    }
    if (target.name === "revert_languages" && target.checked) edited.delete(target.value);
    if (target.id === "id_default_language") buildLanguageTabs();
    updateRows();
    schedulePreview();
  }

  function setUpPreviewControls() {
    const select = $("#preview-language");
    if (select) select.addEventListener("change", () => showLanguage(select.value));
    $$("#preview-platform-tabs [data-platform]").forEach((tab) =>
      tab.addEventListener("click", () => {
        state.platform = tab.dataset.platform;
        showPreview();
      })
    );
    $$(".preview-image", panel).forEach((image) => image.addEventListener("error", () => { image.hidden = true; }));
    const previewAs = $("#preview-as");
    if (previewAs) {
      previewAs.addEventListener("change", requestPreview);
      // Enter here asks for the preview; it must not submit the notification's form.
      previewAs.addEventListener("keydown", (event) => {
        if (event.key !== "Enter") return;
        event.preventDefault();
        requestPreview();
      });
    }
  }

  // The WAI-ARIA tabs pattern: one tab in the Tab order; Left, Right, Home and End move to
  // and select the previous, next, first and last shown tab.
  const TAB_KEYS = { ArrowLeft: -1, ArrowRight: 1, Home: "first", End: "last" };

  function answerArrowKeys(tablist) {
    if (!tablist) return;
    tablist.addEventListener("keydown", (event) => {
      const move = TAB_KEYS[event.key];
      const tabs = $$("[role=tab]", tablist).filter((tab) => !tab.hidden);
      const at = tabs.indexOf(event.target);
      if (move === undefined || at < 0) return;
      event.preventDefault();
      const to = move === "first" ? 0 : move === "last" ? tabs.length - 1 : (at + move + tabs.length) % tabs.length;
      tabs[to].click();
      tabs[to].focus();
    });
  }

  // Narrow screens stack the preview above the form, folded until asked for (composer.css).
  function setUpPreviewToggle() {
    const toggle = $("#preview-toggle");
    if (!toggle) return;
    const composer = $("#composer");
    composer.classList.add("preview-foldable");
    toggle.hidden = false;
    toggle.addEventListener("click", () => {
      const open = composer.classList.toggle("preview-open");
      toggle.setAttribute("aria-expanded", String(open));
      toggle.textContent = open ? "Hide preview" : "Show preview";
    });
  }

  function start() {
    setUpLanguageDialog();
    setUpPreviewControls();
    setUpPreviewToggle();
    answerArrowKeys($("#language-tabs"));
    answerArrowKeys($("#preview-platform-tabs"));
    buildLanguageTabs();
    updateRows();
    form.addEventListener("input", onFormEdit);
    form.addEventListener("change", onFormEdit);
    form.addEventListener("formdata", leaveTranslationsToServer);
    requestPreview();
  }

  start();
})();
