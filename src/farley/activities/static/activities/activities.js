// Activities: the completion dialog, date shortcuts, record pickers, the repeat fields and the
// task list's bulk bar. Every page works without it (the dialog is then a page of its own).
(function () {
  "use strict";
  if (window.farleyActivities) return; // included by a page and by a panel of it
  window.farleyActivities = true;

  // The completion dialog: the "Done" buttons load the form into it (htmx); show it then.
  document.addEventListener("htmx:afterSwap", function (event) {
    const target = event.detail && event.detail.target;
    if (!target || target.id !== "complete-dialog-body" || !window.bootstrap) return;
    const dialog = document.getElementById("complete-dialog");
    if (!dialog.classList.contains("show")) {
      window.bootstrap.Modal.getOrCreateInstance(dialog).show();
    } else {
      const marked = target.querySelector(".is-invalid");
      if (marked) marked.focus();
    }
  });
  document.addEventListener("shown.bs.modal", function (event) {
    if (event.target.id !== "complete-dialog") return;
    const first = event.target.querySelector(".is-invalid, textarea, input:not([type=hidden])");
    if (first) first.focus();
  });
  document.addEventListener("hidden.bs.modal", function (event) {
    if (event.target.id === "complete-dialog") {
      document.getElementById("complete-dialog-body").innerHTML = "";
    }
  });

  // Shortcut buttons that fill an input ("in 2 weeks").
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-set-value]");
    if (!button) return;
    const input = document.getElementById(button.getAttribute("data-set-target"));
    if (!input) return;
    input.value = button.getAttribute("data-set-value");
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // Typing into the next task's fields means: schedule it.
  document.addEventListener("input", function (event) {
    const box = event.target.closest("[data-check-on-input]");
    if (!box) return;
    const check = document.getElementById(box.getAttribute("data-check-on-input"));
    if (check) check.checked = true;
  });

  // Pickers: a record (or contact) chosen in the select becomes a checked box in the list, so
  // that several can be added; without this script the chosen one is sent by the select.
  document.addEventListener("change", function (event) {
    const select = event.target.closest("[data-pick-into]");
    if (!select || !select.value) return;
    const list = document.getElementById(select.getAttribute("data-pick-into"));
    const name = select.getAttribute("data-pick-name");
    const value = select.value;
    const exists = Array.from(list.querySelectorAll("input[type=checkbox]")).some(function (box) {
      return box.value === value;
    });
    if (!exists) {
      const id = name + "-picked-" + value.replace(/[^a-z0-9]/gi, "-");
      const row = document.createElement("div");
      row.className = "form-check";
      const box = document.createElement("input");
      box.className = "form-check-input";
      box.type = "checkbox";
      box.name = name;
      box.value = value;
      box.id = id;
      box.checked = true;
      const label = document.createElement("label");
      label.className = "form-check-label";
      label.htmlFor = id;
      label.textContent = select.options[select.selectedIndex].text;
      row.append(box, label);
      list.append(row);
    }
    select.value = "";
  });

  // The repeat fields: the end of a preset, or the rule typed by hand.
  function showRecurrence(select) {
    const form = select.form;
    const chosen = select.value;
    form.querySelectorAll("[data-recurrence-for]").forEach(function (part) {
      const kind = part.getAttribute("data-recurrence-for");
      part.hidden = !((kind === "custom" && chosen === "custom") ||
        (kind === "preset" && chosen !== "" && chosen !== "custom"));
    });
  }

  // The bulk bar: only the fields the chosen action needs.
  function showBulk(select) {
    document.querySelectorAll("[data-bulk-for]").forEach(function (part) {
      part.hidden = part.getAttribute("data-bulk-for") !== select.value;
    });
    const how = document.getElementById("bulk-postpone");
    const to = document.getElementById("bulk-postpone-to");
    if (how && to && select.value === "postpone") to.parentElement.hidden = how.value !== "date";
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-recurrence-preset]")) showRecurrence(event.target);
    if (event.target.matches("[data-bulk-action]")) showBulk(event.target);
    if (event.target.id === "bulk-postpone") {
      showBulk(document.querySelector("[data-bulk-action]"));
    }
    const all = event.target.closest("[data-check-all]");
    if (all) {
      const name = all.getAttribute("data-check-all");
      all.closest("form").querySelectorAll("input[type=checkbox][name='" + name + "']")
        .forEach(function (box) { box.checked = all.checked; });
    }
  });

  function init() {
    document.querySelectorAll("[data-recurrence-preset]").forEach(showRecurrence);
    document.querySelectorAll("[data-bulk-action]").forEach(showBulk);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
