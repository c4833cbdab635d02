// The calendar page (FullCalendar v7): day, week, month and agenda views of the user's, a
// colleague's or a team's appointments and tasks, loaded from /calendar/events/; dragging an
// entry (or resizing an appointment) posts the move with the entry's version, and the server
// answers 409 when someone else changed it meanwhile or 422 for invalid times: the entry then
// jumps back and a message says why. No inline scripts or styles: the CSP forbids them.
//
// Time zones: the calendar runs in the user's profile time zone (FullCalendar's `timeZone`
// option with the zone's IANA name, from the page), not in the browser's. The server sends each
// entry's wall-clock time in that zone with its offset, and a drop sends the new wall-clock time
// back in the same form (`event.startStr`, e.g. "2026-12-10T11:00:00+01:00"), which the server
// reads as that moment (a time without an offset is read in the user's zone). All-day entries
// are plain dates, the end exclusive.
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function text(root, name) {
    return root.getAttribute("data-text-" + name) || "";
  }

  function say(message, kind) {
    window.farleySay("calendar-message", message, kind);
  }


  // "me", "user:5" or "team:3" (the picker) as the events' query parameters.
  function whoParams(value) {
    const params = {};
    const parts = String(value || "").split(":");
    if ((parts[0] === "user" || parts[0] === "team") && /^\d+$/.test(parts[1] || "")) {
      params[parts[0]] = parts[1];
    }
    return params;
  }

  // A Date as YYYY-MM-DD in the calendar's time zone.
  function isoDay(date, zone) {
    try {
      return new Intl.DateTimeFormat("en-CA", {
        timeZone: zone,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
      }).format(date);
    } catch (error) {
      return date.toISOString().slice(0, 10);
    }
  }

  function readJson(response) {
    return response
      .json()
      .catch(function () {
        return {};
      })
      .then(function (data) {
        return { status: response.status, data: data };
      });
  }

  function start() {
    const root = document.getElementById("calendar");
    if (!root || !window.FullCalendar || root.getAttribute("data-ready")) return;
    root.setAttribute("data-ready", "1");
    const zone = root.getAttribute("data-time-zone") || "local";
    const picker = document.getElementById("calendar-who");
    const form = document.getElementById("calendar-filter");
    const showButton = document.getElementById("calendar-show");
    const mayEdit = root.getAttribute("data-may-edit") === "true";
    const viewKeys = {};
    (root.getAttribute("data-view-keys") || "").split(",").forEach(function (pair) {
      const parts = pair.split("=");
      if (parts.length === 2) viewKeys[parts[0]] = parts[1];
    });
    let who = picker ? picker.value : "me";
    let loadMessage = false; // the message shown is about loading (cleared by the next load)

    // The view, the date and whose calendar stay in the address: a reload shows the same.
    function remember(view) {
      const url = new URL(root.getAttribute("data-page-url"), window.location.href);
      if (who && who !== "me") url.searchParams.set("who", who);
      const key = viewKeys[view.type];
      if (key) url.searchParams.set("view", key);
      url.searchParams.set("date", isoDay(view.currentStart, zone));
      window.history.replaceState(null, "", url.pathname + url.search);
      if (form) {
        form.querySelectorAll("[data-calendar-field]").forEach(function (field) {
          field.remove();
        });
        ["view", "date"].forEach(function (name) {
          const input = document.createElement("input");
          input.type = "hidden";
          input.name = name;
          input.value = url.searchParams.get(name) || "";
          input.setAttribute("data-calendar-field", name);
          form.appendChild(input);
        });
      }
    }

    function loadEvents(info, success, failure) {
      const url = new URL(root.getAttribute("data-events-url"), window.location.href);
      url.searchParams.set("start", info.startStr);
      url.searchParams.set("end", info.endStr);
      const params = whoParams(who);
      Object.keys(params).forEach(function (key) {
        url.searchParams.set(key, params[key]);
      });
      fetch(url.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(readJson)
        .then(function (result) {
          if (result.status !== 200) {
            const error = (result.data && result.data.error) || {};
            say(error.message || text(root, "load-failed"), "danger");
            loadMessage = true;
            failure(new Error(error.message || "HTTP " + result.status));
            return;
          }
          if (result.data.truncated) {
            say(text(root, "truncated"), "warning");
            loadMessage = true;
          } else if (loadMessage) {
            say("");
            loadMessage = false;
          }
          success(result.data.events || []);
        })
        .catch(function (error) {
          say(text(root, "offline"), "danger");
          loadMessage = true;
          failure(error);
        });
    }

    function post(event) {
      const body = new URLSearchParams();
      body.set("version", String(event.extendedProps.version));
      body.set("all_day", event.allDay ? "1" : "0");
      body.set("start_at", event.startStr);
      if (event.end) body.set("end_at", event.endStr);
      return fetch(event.extendedProps.moveUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "X-CSRFToken": csrfToken(),
          Accept: "application/json",
          "Content-Type": "application/x-www-form-urlencoded",
        },
        body: body.toString(),
      }).then(readJson);
    }

    // Dropped or resized: save it; on an error the entry jumps back and the message says why.
    function moved(info) {
      const event = info.event;
      const element = info.el;
      if (element) element.setAttribute("aria-busy", "true");
      post(event)
        .then(function (result) {
          if (element) element.removeAttribute("aria-busy");
          if (result.status === 200) {
            event.setExtendedProp("version", result.data.version);
            say(text(root, "moved").replace("{title}", event.title), "success");
            return;
          }
          info.revert();
          const error = (result.data && result.data.error) || {};
          say(error.message || text(root, "failed"), "danger");
          // Someone else changed it: show its current time (and version).
          if (result.status === 409 || result.status === 404) calendar.refetchEvents();
        })
        .catch(function () {
          if (element) element.removeAttribute("aria-busy");
          info.revert();
          say(text(root, "offline"), "danger");
        });
    }

    const options = {
      timeZone: zone,
      locale: root.getAttribute("data-locale") || "en",
      initialView: root.getAttribute("data-initial-view") || "timeGridWeek",
      headerToolbar: {
        start: "prev,next today",
        center: "title",
        end: "timeGridDay,timeGridWeek,dayGridMonth,listMonth",
      },
      // "Today", "Day", "Week", "Month", "All-day" come from the library's locale (English or
      // German); the list of the month is our agenda.
      buttons: { listMonth: { text: text(root, "agenda") } },
      // The page's height (calendar.css): the day views scroll, starting at 7 o'clock.
      height: "100%",
      scrollTime: "07:00:00",
      nowIndicator: true,
      dayMaxEvents: true,
      editable: mayEdit,
      // Each entry says whether it may be dragged (the user may change it) and tasks have no
      // end to resize; a task needs a time of day, so it cannot go to the all-day row.
      eventAllow: function (span, moving) {
        return !(moving && moving.extendedProps.kind === "task" && span.allDay);
      },
      events: loadEvents,
      eventDrop: moved,
      eventResize: moved,
      eventDidMount: function (info) {
        const props = info.event.extendedProps;
        const whose = props.owner || props.team;
        info.el.setAttribute("data-activity-id", info.event.id);
        info.el.setAttribute(
          "title",
          (props.kindLabel ? props.kindLabel + ": " : "") + info.event.title + (whose ? " (" + whose + ")" : "")
        );
      },
      datesSet: function (info) {
        remember(info.view);
      },
    };
    if (root.getAttribute("data-first-day")) {
      options.firstDay = parseInt(root.getAttribute("data-first-day"), 10);
    }
    if (root.getAttribute("data-initial-date")) {
      options.initialDate = root.getAttribute("data-initial-date");
    }
    const calendar = new window.FullCalendar.Calendar(root, options);
    calendar.render();
    window.farleyCalendar = calendar;

    // Another person or team: load their entries (the page itself stays).
    if (picker) {
      if (showButton) showButton.classList.add("d-none");
      picker.addEventListener("change", function () {
        who = picker.value;
        say("");
        remember(calendar.view);
        calendar.refetchEvents();
      });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
