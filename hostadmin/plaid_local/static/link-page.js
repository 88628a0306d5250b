/* plaid_local: the emulated Link page's behaviour. Values come from data attributes, never from
   JavaScript written by a template. */
(function () {
  "use strict";
  function post(message) {
    message.source = "plaid-local-link";
    if (window.parent !== window) { window.parent.postMessage(message, "*"); }
  }
  var exit = document.getElementById("exit");
  exit.addEventListener("click", function () {
    if (exit.dataset.error !== undefined) {
      post({type: "exit", error: {error_code: "INVALID_LINK_TOKEN", error_message: exit.dataset.error}});
    } else {
      post({type: "exit", error: null, metadata: {status: "requires_credentials", link_session_id: null}});
    }
  });
  var form = document.getElementById("link-form");
  if (!form) { return; }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var chosen = [], deselected = [];
    document.querySelectorAll("input[name=account]:not(:disabled)").forEach(function (el) {
      if (el.checked && el.dataset.shared === undefined) { chosen.push(el.value); }
      if (!el.checked && el.dataset.shared !== undefined) { deselected.push(el.value); }
    });
    var institution = document.querySelector("input[name=institution]:checked");
    var oauth = (institution && institution.dataset.oauth !== undefined) || form.dataset.oauthItem !== undefined;
    if (oauth && form.dataset.oauthState === undefined) {
      // An OAuth bank: leave for its page; it sends the browser back to the app's redirect_uri.
      var query = new URLSearchParams({token: form.dataset.token});
      if (institution) { query.set("institution", institution.value); }
      chosen.forEach(function (a) { query.append("account", a); });
      deselected.forEach(function (a) { query.append("deselected", a); });
      window.top.location.href = new URL(form.dataset.bankUrl, window.location.href).href + "?" + query;
      return;
    }
    fetch(form.dataset.completeUrl, {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({link_token: form.dataset.token, institution_id: institution && institution.value,
                            accounts: chosen, deselected: deselected, oauth_state_id: form.dataset.oauthState})
    }).then(function (r) { return r.json().then(function (b) { return [r.ok, b]; }); })
      .then(function (res) {
        if (!res[0]) { document.getElementById("result").textContent = res[1].error_message; return; }
        document.getElementById("result").textContent = "Connected: " + res[1].public_token;
        post({type: "event", event: "HANDOFF", metadata: res[1].metadata});
        post({type: "success", public_token: res[1].public_token, metadata: res[1].metadata});
      });
  });
})();
