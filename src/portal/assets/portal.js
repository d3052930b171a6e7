// tenantgraph portal: small enhancements; every page works without this script.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons: <button data-copy="ID"> copies the value of the element with that id.
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", async () => {
      const field = document.getElementById(button.dataset.copy);
      if (!field) return;
      try {
        await navigator.clipboard.writeText(field.value);
        button.textContent = "Copied";
      } catch (_) {
        field.select();
        button.textContent = "Press Ctrl+C to copy";
      }
    });
  }

  // JSON editors: say at once, next to the editor, when the text is not a JSON object.
  for (const editor of document.querySelectorAll("textarea[data-json]")) {
    const message = document.getElementById(editor.id + "-live");
    const check = () => {
      let problem = "";
      try {
        const value = JSON.parse(editor.value);
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
          problem = "This must be a JSON object, { … }.";
        }
      } catch (error) {
        problem = "Not valid JSON: " + error.message;
      }
      editor.setAttribute("aria-invalid", problem ? "true" : "false");
      if (message) message.textContent = problem;
    };
    editor.addEventListener("input", check);
  }

  // Confirmations: a button stays disabled until its field holds the expected text.
  for (const field of document.querySelectorAll("input[data-confirm]")) {
    const button = document.getElementById(field.dataset.confirmButton);
    if (!button) continue;
    const expected = field.dataset.confirm.toLowerCase();
    const update = () => {
      button.disabled = field.value.trim().toLowerCase() !== expected;
    };
    field.addEventListener("input", update);
    update();
  }
});
