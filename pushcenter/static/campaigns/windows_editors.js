// Rows to add and remove for a Windows toast's inputs and buttons and a tile's sizes, in place of
// their JSON boxes. The JSON box stays in the form, hidden, and is what is submitted: each edit
// writes it and tells the composer, whose preview and server checks follow as for any field.
// A box whose text is not a JSON list is left as it is, for the marketer to mend.
"use strict";

(function () {
  const SCHEMAS = {
    inputs: {
      noun: "input",
      most: 5,
      fields: [
        { key: "id", label: "ID", required: true, pattern: "[A-Za-z0-9_.-]+", rule: "Letters, digits, '_', '.' or '-'." },
        { key: "type", label: "Type", choices: ["text", "selection"] },
        { key: "title", label: "Title" },
        { key: "placeholder", label: "Placeholder" },
        { key: "default", label: "Default" },
        { key: "selections", label: "Choices, one per line: id = label", pairs: true, when: (item) => item.type === "selection" },
      ],
    },
    actions: {
      noun: "button",
      most: 5,
      fields: [
        { key: "content", label: "Label", required: true },
        { key: "arguments", label: "Arguments", required: true },
        { key: "activation_type", label: "Activation", choices: ["foreground", "background", "protocol"] },
        { key: "input_id", label: "Beside input (its ID)" },
        { key: "image_uri", label: "Image URI" },
      ],
    },
    tile_bindings: {
      noun: "tile size",
      most: 4,
      fields: [
        { key: "size", label: "Size", choices: ["small", "medium", "wide", "large"] },
        { key: "texts", label: "Lines, one per line (at most 4)", lines: true },
        { key: "image", label: "Background image" },
      ],
    },
  };

  function make(tag, className, text) {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function parse(text) {
    try {
      const value = JSON.parse(text || "[]");
      return Array.isArray(value) && value.every((item) => item && typeof item === "object") ? value : null;
    } catch (notJson) {
      return null;
    }
  }

  /** The text a field shows for an item's value. */
  function shown(field, value) {
    if (field.pairs) return (value || []).map((choice) => `${choice.id || ""} = ${choice.content || ""}`).join("\n");
    if (field.lines) return (value || []).join("\n");
    return value === undefined || value === null ? "" : String(value);
  }

  /** The value a field's text stands for. */
  function read(field, text) {
    const lines = text.split("\n").map((line) => line.trim()).filter(Boolean);
    if (field.pairs) {
      return lines.map((line) => {
        const [id, ...label] = line.split("=");
        return { id: id.trim(), content: label.join("=").trim() };
      });
    }
    if (field.lines) return lines;
    return text;
  }

  function control(field, value, id) {
    let input;
    if (field.choices) {
      input = make("select");
      field.choices.forEach((choice) => input.append(new Option(choice, choice)));
      input.value = value || field.choices[0];
    } else if (field.pairs || field.lines) {
      input = make("textarea");
      input.rows = 2;
      input.value = shown(field, value);
    } else {
      input = make("input");
      input.type = "text";
      input.maxLength = 200;
      input.value = shown(field, value);
      if (field.pattern) input.pattern = field.pattern;
    }
    input.id = id;
    input.dataset.key = field.key;
    input.required = Boolean(field.required);
    return input;
  }

  function enhance(box) {
    const schema = SCHEMAS[box.name];
    const items = parse(box.value);
    if (!schema || items === null) return;
    const editor = make("div", "rows-editor");
    const list = make("div", "rows-editor-rows");
    const add = make("button", "rows-editor-add", `Add ${schema.noun}`);
    add.type = "button";
    editor.append(list, add);
    box.hidden = true;
    box.after(editor);

    let serial = 0;
    function addRow(item) {
      serial += 1;
      const row = make("fieldset", "rows-editor-row");
      row.append(make("legend", "", `${schema.noun[0].toUpperCase()}${schema.noun.slice(1)}`));
      schema.fields.forEach((field) => {
        const id = `${box.id}-${serial}-${field.key}`;
        const wrap = make("div", "rows-editor-field");
        wrap.dataset.key = field.key;
        const label = make("label", "", field.label);
        label.htmlFor = id;
        const message = make("span", "rows-editor-error");
        message.setAttribute("aria-live", "polite");
        wrap.append(label, control(field, item[field.key], id), message);
        row.append(wrap);
      });
      const remove = make("button", "rows-editor-remove", `Remove this ${schema.noun}`);
      remove.type = "button";
      remove.addEventListener("click", () => {
        row.remove();
        write();
      });
      row.append(remove);
      list.append(row);
    }

    function rowItem(row) {
      const item = {};
      schema.fields.forEach((field) => {
        const input = row.querySelector(`[data-key="${field.key}"]:is(input, select, textarea)`);
        const value = read(field, input.value);
        const visible = !field.when || field.when(item);
        input.closest(".rows-editor-field").hidden = !visible;
        if (visible && (field.required || (Array.isArray(value) ? value.length : value !== ""))) item[field.key] = value;
      });
      return item;
    }

    /** Say at each field what is wrong with it, as the server would refuse it. */
    function check(row, item, seen) {
      schema.fields.forEach((field) => {
        const input = row.querySelector(`[data-key="${field.key}"]:is(input, select, textarea)`);
        let problem = "";
        if (field.required && !String(item[field.key] || "").trim()) problem = "Required.";
        else if (field.pattern && item[field.key] && !new RegExp(`^(?:${field.pattern})$`).test(item[field.key])) problem = field.rule;
        else if (field.key === "id" && seen.has(item.id)) problem = "Another input has this ID.";
        else if (field.lines && (item.texts || []).length > 4) problem = "At most 4 lines.";
        input.setAttribute("aria-invalid", String(Boolean(problem)));
        input.closest(".rows-editor-field").querySelector(".rows-editor-error").textContent = problem;
      });
      if (item.id) seen.add(item.id);
    }

    /** Check every row; with `store`, write the box and tell the composer. */
    function write(store = true) {
      const seen = new Set();
      const rows = Array.from(list.children);
      const value = rows.map((row) => {
        const item = rowItem(row);
        check(row, item, seen);
        return item;
      });
      add.disabled = rows.length >= schema.most;
      if (!store) return;
      box.value = JSON.stringify(value);
      box.dispatchEvent(new Event("input", { bubbles: true }));
      box.dispatchEvent(new Event("change", { bubbles: true }));
    }

    items.forEach(addRow);
    editor.addEventListener("input", () => write());
    editor.addEventListener("change", () => write());
    add.addEventListener("click", () => {
      addRow({});
      write();
      const first = list.lastElementChild.querySelector("input, select, textarea");
      if (first) first.focus();
    });
    write(false); // the stored value stands until the marketer changes something
  }

  Object.keys(SCHEMAS).forEach((name) => {
    const box = document.querySelector(`textarea[name="${name}"]`);
    if (box) enhance(box);
  });
})();
