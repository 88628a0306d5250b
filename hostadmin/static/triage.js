/* Triage pages: keyboard shortcuts, focus that survives swaps, shift-click ranges, sums. No framework. */
(function () {
  "use strict";

  if (window.htmx) {
    // Refusals (409) and invalid input (422) come back with the row or form and the reason: show them.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "409", swap: true, error: false },
      { code: "422", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
    ];
  }

  var lastChecked = null;

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tbody.row")); }
  function currentRow() {
    var active = document.activeElement;
    return active && active.closest ? active.closest("tbody.row") : null;
  }
  function focusRow(tbody) {
    if (!tbody) return;
    var main = tbody.querySelector("tr.main");
    main.focus();
    main.scrollIntoView({ block: "nearest" });
  }
  function move(delta) {
    var all = rows();
    if (!all.length) return;
    var index = all.indexOf(currentRow());
    var next = index < 0 ? (delta > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, index + delta));
    focusRow(all[next]);
  }
  function checkbox(tbody) { return tbody ? tbody.querySelector('input[name="row"]') : null; }

  function formatMoney(minor, currency) {
    try {
      var format = new Intl.NumberFormat(undefined, { style: "currency", currency: currency });
      var digits = format.resolvedOptions().maximumFractionDigits;
      return format.format(minor / Math.pow(10, digits));
    } catch (e) { return (minor / 100).toFixed(2) + " " + currency; }
  }
  function sumText(list) {
    var totals = {};
    list.forEach(function (tbody) {
      var currency = tbody.dataset.currency;
      totals[currency] = (totals[currency] || 0) + parseInt(tbody.dataset.amount, 10);
    });
    var parts = Object.keys(totals).sort().map(function (c) { return formatMoney(totals[c], c); });
    return (parts.join(" + ") || "—") + " (" + list.length + " row" + (list.length === 1 ? "" : "s") + ")";
  }
  function updateSums() {
    var all = rows();
    var selected = all.filter(function (t) { var box = checkbox(t); return box && box.checked; });
    var shown = document.querySelector('[data-sum="shown"]');
    var text = selected.length ? sumText(selected) : "—";
    var count = String(selected.length);
    // "All N rows matching" acts on every matching row, not on the boxes ticked: say so.
    var allMatching = document.querySelector("[data-all-matching]");
    if (allMatching && allMatching.checked) {
      count = allMatching.dataset.allCount;
      text = allMatching.dataset.allSum + " (all matching)";
    }
    if (shown) shown.textContent = sumText(all);
    document.querySelectorAll('[data-sum="selected"], [data-sum="selected-bottom"]').forEach(function (el) {
      el.textContent = text;
    });
    var counter = document.querySelector("[data-selected-count]");
    if (counter) counter.textContent = count;
  }

  function toggle(tbody) {
    var box = checkbox(tbody);
    if (!box) return;
    box.checked = !box.checked;
    lastChecked = box;
    updateSums();
  }
  function press(key) {
    var tbody = currentRow();
    var button = tbody && tbody.querySelector('tr.main [data-key="' + key + '"]');
    if (button && !button.disabled) button.click();
  }
  function submitFilters() {
    var form = document.getElementById("filters");
    if (form && window.htmx) htmx.trigger(form, "submit");
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target.matches && target.matches("input, textarea, select");
    if (event.key === "Escape") {
      // Esc closes the row's open panel wherever the focus is in the row (a field, a suggestion's button,
      // the row itself); focus then returns to the row (htmx:afterSettle below).
      var panel = target.closest && target.closest("tbody.row");
      var cancel = panel && panel.querySelector("[data-cancel]");
      if (cancel) { event.preventDefault(); cancel.click(); return; }
      if (typing) { target.blur(); return; }
    }
    if (typing) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.form) {
        event.preventDefault();
        target.form.requestSubmit();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    // A reader (accountant) has no actions: their letters stay free for the browser.
    var canAct = !!document.querySelector("[data-triage][data-can-act]");
    if (!canAct && "xihalnu".indexOf(event.key) >= 0) return;
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "x": toggle(currentRow()); break;
      case "i": case "h": case "a": case "l": case "n": press(event.key); break;
      case "u": var undo = document.getElementById("undo-button"); if (undo) undo.click(); break;
      case "/": var q = document.getElementById("q"); if (q) { q.focus(); q.select(); } break;
      case "?": var help = document.getElementById("shortcuts"); if (help && !help.open) help.showModal(); break;
      case "Enter":
        // Enter on a row opens its first action (add funds or link), like a click would.
        var first = currentRow() && currentRow().querySelector("tr.main [data-key]");
        if (first && target.matches("tr.main")) first.click(); else return;
        break;
      default: return;
    }
    event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.matches('input[name="row"]')) {
      if (event.shiftKey && lastChecked && lastChecked !== target) {
        var boxes = rows().map(checkbox);
        var a = boxes.indexOf(lastChecked), b = boxes.indexOf(target);
        if (a >= 0 && b >= 0) {
          boxes.slice(Math.min(a, b), Math.max(a, b) + 1).forEach(function (box) { box.checked = target.checked; });
        }
      }
      lastChecked = target;
      updateSums();
    } else if (target.matches("[data-all-matching]")) {
      updateSums();
    } else if (target.matches("[data-select-page]")) {
      rows().forEach(function (t) { var box = checkbox(t); if (box) box.checked = target.checked; });
      updateSums();
    } else if (target.closest("[data-help-toggle]")) {
      document.getElementById("shortcuts").showModal();
    } else if (target.closest("#counts a[data-status]")) {
      // Status tabs set the filter form's status, so every other filter is kept.
      event.preventDefault();
      var form = document.getElementById("filters");
      form.elements.status.value = target.closest("a").dataset.status;
      submitFilters();
    } else if (target.closest("tr.main") && !target.closest("button, input, a, details")) {
      focusRow(target.closest("tbody.row"));
    }
  });

  document.addEventListener("rows-changed", submitFilters);

  // The search box already refreshes as one types; its "change" on blur would redraw the list a
  // second time and take the admin's focus away, so it never reaches the filter form.
  document.addEventListener("change", function (event) {
    if (event.target.id === "q") event.stopPropagation();
  }, true);

  // Shared links stay short: empty filters are left out of the URL.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get") return;
    var params = event.detail.parameters;
    Object.keys(params).forEach(function (key) { if (params[key] === "") delete params[key]; });
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var element = event.detail.elt;
    updateSums();
    var tbody = element && element.matches && element.matches("tbody.row") ? element
      : document.getElementById(element && element.id);
    if (!tbody || !tbody.matches || !tbody.matches("tbody.row")) return;
    var field = tbody.querySelector("[data-autofocus]");
    if (field) { field.focus(); return; }
    if (!document.activeElement || document.activeElement === document.body) focusRow(tbody);
  });

  // An undone row that is not on this page (filtered out, or further down): redraw the list instead.
  document.addEventListener("htmx:targetError", submitFilters);

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    var text = { 400: "Your form has expired: reload the page.", 403: "Your role cannot make changes.",
                 404: "Not found: it may have been removed." }[status] || "Something went wrong (" + status + ").";
    var region = document.getElementById("feedback");
    if (region) {
      var message = document.createElement("span");
      message.className = "feedback-message feedback-error";
      message.textContent = text;
      region.replaceChildren(message);
    }
  });

  document.addEventListener("DOMContentLoaded", updateSums);
  if (document.readyState !== "loading") updateSums();
})();
