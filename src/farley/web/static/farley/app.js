// Farley's small bits of behaviour (no inline scripts: the pages run under a strict CSP).
(function () {
  "use strict";

  // A dismissible message in the box with id ``boxId`` (replacing what it showed), for the
  // scripts of single pages (deal board, calendar). Its close button's label comes from the
  // box's data-close-label, so it is translated.
  window.farleySay = function (boxId, message, kind) {
    const box = document.getElementById(boxId);
    if (!box) return;
    box.innerHTML = "";
    if (!message) return;
    const alert = document.createElement("div");
    alert.className = "alert alert-" + kind + " alert-dismissible mb-2";
    alert.setAttribute("role", kind === "danger" ? "alert" : "status");
    alert.textContent = message;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", box.getAttribute("data-close-label") || "Close");
    alert.appendChild(close);
    box.appendChild(alert);
  };

  // Add a row to an inline list (emails, phones, addresses, account links) from its <template>.
  document.addEventListener("click", function (event) {
    const add = event.target.closest("[data-add-row]");
    if (add) {
      event.preventDefault();
      const group = add.getAttribute("data-add-row");
      const list = document.getElementById(group + "-rows");
      const template = document.getElementById(group + "-template");
      const index = Number(list.getAttribute("data-next-index") || list.children.length);
      list.setAttribute("data-next-index", String(index + 1));
      const html = template.innerHTML.replace(/__index__/g, String(index));
      list.insertAdjacentHTML("beforeend", html);
      if (window.htmx) window.htmx.process(list.lastElementChild);
      const first = list.lastElementChild && list.lastElementChild.querySelector("input, select");
      if (first) first.focus();
      return;
    }
    const remove = event.target.closest("[data-remove-row]");
    if (remove) {
      event.preventDefault();
      const row = remove.closest(".form-row-item");
      if (row) row.remove();
    }
  });

  // "/" focuses the global search. In the search box, ArrowDown/ArrowUp go to the first/last
  // result and Escape closes the results; on a result, ArrowDown/ArrowUp move between the
  // results (ArrowUp on the first goes back to the box), Home/End jump to the first/last, and
  // Escape closes the results and returns to the box.
  function closeSearch(search) {
    document.getElementById("search-results").innerHTML = "";
    search.focus();
  }
  document.addEventListener("keydown", function (event) {
    const search = document.getElementById("global-search");
    if (!search) return;
    const active = document.activeElement;
    const hits = Array.from(document.querySelectorAll("#search-results a"));
    const onHit = hits.indexOf(active);
    const typing = active && ["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName);
    if (event.key === "/" && !typing && !(active && active.isContentEditable)) {
      event.preventDefault();
      search.focus();
    } else if (active === search) {
      if (event.key === "Escape") {
        document.getElementById("search-results").innerHTML = "";
      } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && hits.length) {
        event.preventDefault();
        hits[event.key === "ArrowDown" ? 0 : hits.length - 1].focus();
      }
    } else if (onHit !== -1) {
      let next = null;
      if (event.key === "ArrowDown") next = hits[Math.min(onHit + 1, hits.length - 1)];
      else if (event.key === "ArrowUp") next = onHit === 0 ? search : hits[onHit - 1];
      else if (event.key === "Home") next = hits[0];
      else if (event.key === "End") next = hits[hits.length - 1];
      else if (event.key === "Escape") {
        event.preventDefault();
        closeSearch(search);
        return;
      }
      if (next) {
        event.preventDefault();
        next.focus();
      }
    }
  });

  // After a failed submit (the page shows an error alert and marked fields), put the cursor
  // into the first marked field, below the sticky header; the same after htmx swaps a form
  // back in with errors (422).
  function focusFirstInvalid(root) {
    const marked = root.querySelector(".is-invalid");
    if (!marked) return;
    const field = marked.matches("input, select, textarea, button")
      ? marked
      : marked.querySelector("input, select, textarea, button");
    if (!field || field.disabled) return;
    field.focus({ preventScroll: true });
    field.scrollIntoView({ block: "center" });
  }
  if (document.querySelector("main .alert-danger")) focusFirstInvalid(document.querySelector("main") || document);
  document.addEventListener("htmx:afterSwap", function (event) {
    const xhr = event.detail && event.detail.xhr;
    if (!xhr || xhr.status !== 422) return;
    let root = event.detail.target;
    // An outerHTML swap replaced the target: look up its successor by id.
    if (root && !root.isConnected && root.id) root = document.getElementById(root.id);
    if (root) focusFirstInvalid(root);
  });

  // "Back" buttons (error pages): shown only when there is a page to go back to.
  document.querySelectorAll("[data-history-back]").forEach(function (button) {
    if (window.history.length > 1) button.hidden = false;
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-history-back]")) {
      event.preventDefault();
      window.history.back();
    }
  });

  // Confirm dangerous actions.
  document.addEventListener("submit", function (event) {
    const message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
})();
