// Scan progress: polls the scan's counters every 2 s while it runs and updates the page.
// Only the status line is a live region (announced when the scan ends), not every counter.
(function () {
  "use strict";
  var root = document.getElementById("scan-progress");
  if (!root || root.getAttribute("data-active") !== "true") {
    return;
  }
  var url = root.getAttribute("data-progress-url");
  var status = document.getElementById("scan-status");
  var announce = document.getElementById("scan-announce");

  function show(data) {
    Object.keys(data.counts).forEach(function (name) {
      var cell = root.querySelector('[data-count="' + name + '"]');
      if (cell && cell.textContent !== String(data.counts[name])) {
        cell.textContent = String(data.counts[name]);
      }
    });
    if (status.textContent !== data.status_label) {
      status.textContent = data.status_label;
    }
    if (!data.active) {
      announce.textContent = data.announce;
      root.setAttribute("data-active", "false");
      var cancel = document.getElementById("scan-cancel");
      if (cancel) {
        cancel.hidden = true;  // nothing left to stop
      }
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        show(data);
        if (data.active) {
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }

  window.setTimeout(poll, 1000);
})();
