// Automatic logoff warning for staff pages. The server ends an idle session by itself; this
// script only warns before it happens, lets the person stay signed in, and leaves the page
// when the session is over so patient information does not stay on an unattended screen.
(function () {
  "use strict";
  var box = document.getElementById("idle-warning");
  if (!box || !window.fetch) { return; }
  var warnSeconds = Number(box.getAttribute("data-warn-seconds"));
  var statusUrl = box.getAttribute("data-status-url");
  var loginUrl = box.getAttribute("data-login-url");
  var countdown = document.getElementById("idle-countdown");
  var form = document.getElementById("idle-extend");
  var deadline = Date.now() + Number(box.getAttribute("data-idle-seconds")) * 1000;
  var timer = null;

  function leave() {
    var here = window.location.pathname + window.location.search;
    window.location.assign(loginUrl + "?next=" + encodeURIComponent(here));
  }

  function format(seconds) {
    var minutes = Math.floor(seconds / 60);
    var rest = seconds % 60;
    return minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function schedule(remainingSeconds) {
    deadline = Date.now() + remainingSeconds * 1000;
    box.hidden = true;
    clearTimeout(timer);
    timer = setTimeout(check, Math.max(remainingSeconds - warnSeconds, 0) * 1000);
  }

  // Another tab may have kept the session alive: ask the server before warning.
  function check() {
    fetch(statusUrl, { credentials: "same-origin", redirect: "manual",
                       headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || !data.signed_in) { leave(); return; }
        // Under a second left: the server ends the session a moment later; ask again then.
        if (data.remaining_seconds <= 0) { clearTimeout(timer); timer = setTimeout(check, 1000); return; }
        if (data.remaining_seconds > warnSeconds) { schedule(data.remaining_seconds); return; }
        warn(data.remaining_seconds);
      })
      .catch(function () { warn(Math.round((deadline - Date.now()) / 1000)); });
  }

  function warn(remainingSeconds) {
    deadline = Date.now() + remainingSeconds * 1000;
    box.hidden = false;
    form.querySelector("button").focus();
    tick();
  }

  function tick() {
    var left = Math.round((deadline - Date.now()) / 1000);
    if (left <= 0) { check(); return; }
    countdown.textContent = format(left);
    clearTimeout(timer);
    timer = setTimeout(tick, 1000);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var token = form.querySelector("input[name=csrf_token]").value;
    fetch(form.action, { method: "POST", credentials: "same-origin", redirect: "manual",
                         headers: { "X-CSRFToken": token, "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && data.signed_in) { schedule(data.remaining_seconds); } else { leave(); }
      })
      .catch(leave);
  });

  schedule(Number(box.getAttribute("data-idle-seconds")));
})();
