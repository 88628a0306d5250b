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
      launch(data.link_token, button.dataset.completeUrl, button.dataset.purpose || "", null,
             function () { button.disabled = false; });
    } catch (error) {
      button.disabled = false;
      showError(error.message, button);
    }
  }
  function launch(token, completeUrl, purpose, receivedRedirectUri, onExit) {
    var config = {
      token: token,
      onSuccess: function (publicToken) {
        var form = document.getElementById("plaid-link-complete");
        form.action = completeUrl;
        form.elements.public_token.value = publicToken;
        form.elements.link_token.value = token;
        form.elements.purpose.value = purpose;
        form.submit();
      },
      onExit: function (error) {
        onExit();
        if (error) { showError(error.display_message || error.error_message || "Plaid Link closed."); }
      }
    };
    // Back from an OAuth bank: Link resumes the same session from the address the bank sent us to.
    if (receivedRedirectUri) { config.receivedRedirectUri = receivedRedirectUri; }
    window.Plaid.create(config).open();
  }
  var resume = document.getElementById("plaid-oauth-resume");
  if (resume) {
    window.addEventListener("load", function () {
      launch(resume.dataset.linkToken, resume.dataset.completeUrl, resume.dataset.purpose, window.location.href,
             function () {});
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-plaid-link]");
    if (button) { event.preventDefault(); openLink(button); }
  });
})();
