/* plaid_local: drop-in replacement for Plaid's link-initialize.js (local emulator). */
(function () {
  "use strict";
  var BASE = {{ base_url|tojson }};
  var ORIGIN = new URL(BASE).origin;

  function create(config) {
    var overlay = null;
    var sessionId = null;

    function call(name) {
      var args = Array.prototype.slice.call(arguments, 1);
      if (typeof config[name] === "function") { config[name].apply(null, args); }
    }
    function close() {
      if (overlay) { overlay.parentNode.removeChild(overlay); overlay = null; }
      window.removeEventListener("message", onMessage);
    }
    function onMessage(event) {
      var data = event.data || {};
      if (event.origin !== ORIGIN || data.source !== "plaid-local-link") { return; }
      sessionId = (data.metadata && data.metadata.link_session_id) || sessionId;
      if (data.event) { call("onEvent", data.event, data.metadata || {}); }
      if (data.type === "success") {
        close();
        call("onSuccess", data.public_token, data.metadata);
      } else if (data.type === "exit") {
        close();
        call("onExit", data.error || null, data.metadata || {status: null, link_session_id: sessionId});
      }
    }
    return {
      open: function () {
        if (overlay) { return; }
        overlay = document.createElement("div");
        overlay.id = "plaid-local-link-overlay";
        overlay.setAttribute("role", "dialog");
        overlay.setAttribute("aria-label", "Plaid Link (local emulator)");
        overlay.style.cssText = "position:fixed;inset:0;z-index:2147483647;" +
          "background:rgba(0,0,0,.55);display:flex;align-items:center;justify-content:center";
        var frame = document.createElement("iframe");
        frame.id = "plaid-local-link-iframe";
        frame.title = "Plaid Link";
        frame.src = BASE + "/link/session?token=" + encodeURIComponent(config.token);
        if (config.receivedRedirectUri) {
          // Resuming after an OAuth bank: the state id it sent back names the interrupted session.
          var state = new URL(config.receivedRedirectUri).searchParams.get("oauth_state_id") || "";
          frame.src += "&oauth_state_id=" + encodeURIComponent(state);
        }
        frame.style.cssText = "width:420px;height:640px;max-width:100%;border:0;" +
          "border-radius:12px;background:#fff";
        overlay.appendChild(frame);
        document.body.appendChild(overlay);
        window.addEventListener("message", onMessage);
        call("onEvent", "OPEN", {view_name: null, timestamp: new Date().toISOString()});
      },
      exit: function () {
        if (!overlay) { return; }
        close();
        call("onExit", null, {status: null, link_session_id: sessionId});
      },
      destroy: close,
      submit: function () {}
    };
  }

  window.Plaid = {create: create, version: "plaid-local"};
})();
