/* Open Plaid Link (or the local emulator's drop-in) for [data-plaid-link] buttons.
   The server issues the Link token (bound to this host and user); Link's onSuccess
   posts the public token back through a normal form, with the CSRF token. */
(function () {
  "use strict";
  function csrfToken() {
    return document.querySelector('meta[name="csrf-token"]').content;
  }
  function showError(message, button) {
    var box = document.getElementById("plaid-link-error");
    box.textContent = message + " ";
    if (button) {
      var retry = document.createElement("button");
      retry.type = "button";
      retry.textContent = "Try again";
      retry.addEventListener("click", function () { box.hidden = true; openLink(button); });
      box.appendChild(retry);
    }
    box.hidden = false;
  }
  async function openLink(button) {
    button.disabled = true;
    var body = new URLSearchParams();
    if (button.dataset.itemId) {
      body.set("item_id", button.dataset.itemId);
      body.set("purpose", button.dataset.purpose || "reconnect");
    }
    try {
      var response = await fetch(button.dataset.tokenUrl, {
        method: "POST", body: body, credentials: "same-origin",
        headers: {"X-CSRFToken": csrfToken(), "Accept": "application/json"}
      });
      var data = {};
      try { data = await response.json(); } catch (ignored) { data = {}; }
      if (!response.ok) { throw new Error(data.error || "Plaid Link could not start. Try again in a minute."); }
      var handler = window.Plaid.create({
        token: data.link_token,
        onSuccess: function (publicToken) {
          var form = document.getElementById("plaid-link-complete");
          form.action = button.dataset.completeUrl;
          form.elements.public_token.value = publicToken;
          form.elements.link_token.value = data.link_token;
          form.elements.purpose.value = button.dataset.purpose || "";
          form.submit();
        },
        onExit: function (error) {
          button.disabled = false;
          if (error) { showError(error.display_message || error.error_message || "Plaid Link closed."); }
        }
      });
      handler.open();
    } catch (error) {
      button.disabled = false;
      showError(error.message, button);
    }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-plaid-link]");
    if (button) { event.preventDefault(); openLink(button); }
  });
})();
