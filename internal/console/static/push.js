// Keeps the list of waiting sign-in requests current: every 2 seconds it
// fetches the list from the server and puts it in place, unless a button
// in it has the keyboard focus (so a choice being made is not swept away).
(function () {
  "use strict";
  var box = document.getElementById("pushes");
  if (!box) { return; }
  function poll() {
    fetch("/console/me/push?partial=1", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (html) {
        if (!box.contains(document.activeElement)) { box.innerHTML = html; }
      })
      .catch(function () {})
      .then(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 2000);
}());
