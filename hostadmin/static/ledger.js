// Ledger lists: a group's link expands the group under its row (htmx); a second click, or "Hide", folds it.
document.addEventListener("click", (event) => {
  const hide = event.target.closest("[data-collapse-group]");
  if (hide) {
    const cell = hide.closest("td[id^='group-of-']");
    if (cell) cell.replaceChildren();
    return;
  }
  const toggle = event.target.closest("[data-group-toggle]");
  if (!toggle) return;
  const cell = document.getElementById(toggle.dataset.groupToggle);
  if (cell && cell.childElementCount) {
    // Already open: fold it, and keep htmx from fetching it again.
    event.preventDefault();
    event.stopImmediatePropagation();
    cell.replaceChildren();
  }
}, true);
