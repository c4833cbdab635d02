// Farley's small bits of behaviour (no inline scripts: the pages run under a strict CSP).
(function () {
  "use strict";

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

  // "/" focuses the global search; Escape closes its results.
  document.addEventListener("keydown", function (event) {
    const search = document.getElementById("global-search");
    if (!search) return;
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
    if (event.key === "/" && !typing) {
      event.preventDefault();
      search.focus();
    } else if (event.key === "Escape" && document.activeElement === search) {
      document.getElementById("search-results").innerHTML = "";
    } else if (event.key === "ArrowDown" && document.activeElement === search) {
      const first = document.querySelector("#search-results a");
      if (first) { event.preventDefault(); first.focus(); }
    }
  });

  // Confirm dangerous actions.
  document.addEventListener("submit", function (event) {
    const message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
})();
