// The deals board (kanban): drag a card to another column to move the deal (SortableJS).
// The move is posted with the card's version; the server answers 409 when someone else moved
// the deal meanwhile, and the columns are then read again, so nothing is lost. Dropping a card
// on a "lost" column first asks for the loss reason. No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function board() {
    return document.getElementById("board");
  }

  function say(text, kind) {
    window.farleySay("board-message", text, kind);
  }


  // Read a column again (its count, sum and first cards) from the server.
  function refresh(column) {
    if (!column || !column.isConnected) return Promise.resolve();
    const url = column.getAttribute("data-column-url");
    // Each column is its own source: htmx keeps one request per source element in flight.
    return window.htmx.ajax("GET", url, { source: column, target: column, swap: "outerHTML" });
  }

  function refreshAll() {
    const columns = Array.from(document.querySelectorAll("#board .board-column"));
    return Promise.all(columns.map(refresh));
  }

  // The loss dialog: resolves with the loss fields, or null when cancelled.
  function askLossReason(card) {
    const dialog = document.getElementById("loss-dialog");
    const form = dialog.querySelector("form");
    const reason = form.elements.loss_reason_id;
    form.reset();
    reason.classList.remove("is-invalid");
    dialog.querySelector("[data-deal-name]").textContent = card.getAttribute("data-name") || "";
    return new Promise(function (resolve) {
      function finish(result) {
        form.removeEventListener("submit", onSubmit);
        dialog.removeEventListener("cancel", onCancel);
        cancelButton.removeEventListener("click", onCancel);
        if (dialog.open) dialog.close();
        resolve(result);
      }
      function onSubmit(event) {
        event.preventDefault();
        if (!reason.value) {
          reason.classList.add("is-invalid");
          reason.setAttribute("aria-invalid", "true");
          reason.focus();
          return;
        }
        const result = { loss_reason_id: reason.value, loss_note: form.elements.loss_note.value };
        if (form.elements.competitor.value.trim()) result.competitor = form.elements.competitor.value;
        finish(result);
      }
      function onCancel(event) {
        event.preventDefault();
        finish(null);
      }
      const cancelButton = form.querySelector("[data-loss-cancel]");
      form.addEventListener("submit", onSubmit);
      dialog.addEventListener("cancel", onCancel);
      cancelButton.addEventListener("click", onCancel);
      dialog.showModal();
      reason.focus();
    });
  }

  function putBack(event) {
    const before = event.from.children[event.oldIndex] || null;
    event.from.insertBefore(event.item, before);
  }

  function post(card, target, extra) {
    const body = new URLSearchParams();
    body.set("stage_id", target.getAttribute("data-stage-id"));
    body.set("version", card.getAttribute("data-version"));
    Object.keys(extra).forEach(function (key) {
      body.set(key, extra[key]);
    });
    return fetch(card.getAttribute("data-move-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "X-CSRFToken": csrfToken(),
        Accept: "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: body.toString(),
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          return { status: response.status, data: data };
        });
    });
  }

  function moved(event) {
    const card = event.item;
    const source = event.from.closest(".board-column");
    const target = event.to.closest(".board-column");
    if (!source || !target || source === target) return;
    const texts = board();
    const ask =
      target.getAttribute("data-stage-kind") === "lost"
        ? askLossReason(card)
        : Promise.resolve({});
    ask.then(function (extra) {
      if (extra === null) {
        putBack(event);
        return;
      }
      card.classList.add("is-moving");
      card.setAttribute("aria-busy", "true");
      post(card, target, extra)
        .then(function (result) {
          if (result.status === 200) {
            const text = (texts.getAttribute("data-text-moved") || "")
              .replace("{deal}", card.getAttribute("data-name") || "")
              .replace("{stage}", target.getAttribute("data-stage-name") || "");
            say(text, "success");
            return Promise.all([refresh(source), refresh(target)]);
          }
          const error = (result.data && result.data.error) || {};
          say(error.message || texts.getAttribute("data-text-failed"), "danger");
          return refreshAll();
        })
        .catch(function () {
          say(texts.getAttribute("data-text-offline"), "danger");
          putBack(event);
        });
    });
  }

  function init(root) {
    if (!window.Sortable) return;
    const lists = root.querySelectorAll
      ? root.querySelectorAll(".board-cards[data-sortable]")
      : [];
    const all = root.matches && root.matches(".board-cards[data-sortable]") ? [root] : [];
    all.concat(Array.from(lists)).forEach(function (list) {
      if (list.getAttribute("data-sortable-ready")) return;
      list.setAttribute("data-sortable-ready", "1");
      window.Sortable.create(list, {
        group: "board-" + (board() ? board().getAttribute("data-pipeline-id") : ""),
        sort: false,
        draggable: ".board-card",
        forceFallback: true,
        fallbackTolerance: 3,
        animation: 120,
        ghostClass: "board-card-ghost",
        chosenClass: "board-card-chosen",
        onAdd: moved,
      });
    });
  }

  // The stage rows of a pipeline's form: "move up" puts a row before the previous one; on
  // submit the rows are numbered in the order they are shown (the server keeps that order).
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-move-row=up]");
    if (!button) return;
    event.preventDefault();
    const row = button.closest(".form-row-item");
    if (row && row.previousElementSibling) {
      row.parentNode.insertBefore(row, row.previousElementSibling);
      button.focus();
    }
  });
  document.addEventListener("submit", function (event) {
    const list = event.target.querySelector && event.target.querySelector("#stages-rows");
    if (!list) return;
    Array.from(list.children).forEach(function (row, index) {
      row.querySelectorAll("[name^='stages-']").forEach(function (field) {
        field.name = field.name.replace(/^stages-\d+-/, "stages-" + index + "-");
      });
    });
  });

  function start() {
    if (!board()) return;
    init(document);
    if (window.htmx) window.htmx.onLoad(init);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
