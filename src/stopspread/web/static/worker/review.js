// The review page without reloads (progressive enhancement). Without this script every form
// still posts and the server redirects back; with it, the same forms (same fields, same CSRF
// token) go out with fetch and "Accept: application/json", and the cards are updated here:
// the state badge, who decided, and the group's bulk form (a decided sighting leaves it).
// The preview links ("grey blur", "colour blur", "outline") swap the card's picture in place.
(function () {
  "use strict";
  var announce = document.getElementById("review-announce");
  if (!announce) {
    return;
  }
  var WAITING = { pending: true, second_look: true };

  function leaveGroupForm(card, id, state) {
    var form = document.querySelector(
      '.group-decisions[data-group="' + card.getAttribute("data-group") + '"]'
    );
    if (!form || WAITING[state]) {
      return;
    }
    var input = form.querySelector('input[name="sighting"][value="' + id + '"]');
    if (input) {
      input.parentNode.removeChild(input);
    }
    var left = form.querySelectorAll('input[name="sighting"]').length;
    var count = form.querySelector("[data-waiting-count]");
    if (count) {
      count.textContent = String(left);
    }
    if (left === 0) {
      var hadFocus = form.contains(document.activeElement);
      form.hidden = true;
      if (hadFocus) {
        var heading = form.parentNode.querySelector("h2");
        heading.setAttribute("tabindex", "-1");
        heading.focus();
      }
    }
  }

  function showDecided(data) {
    data.sightings.forEach(function (id) {
      var card = document.getElementById("sighting-" + id);
      if (!card) {
        return;
      }
      card.className = card.className.replace(/\bstate-\S+/, "state-" + data.state);
      var badge = card.querySelector("[data-state]");
      if (badge) {
        badge.className = "badge badge-" + data.state;
        badge.textContent = data.state_label;
      }
      var by = card.querySelector("[data-reviewed-by]");
      if (by) {
        by.textContent = data.reviewed_by;
      }
      leaveGroupForm(card, id, data.state);
    });
    announce.textContent = data.message;
  }

  function setBusy(form, busy) {
    // Buttons stay enabled (a disabled button drops the keyboard focus); a second press
    // while the first is on its way is ignored instead.
    form.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function send(form, submitter) {
    var body = new URLSearchParams(new FormData(form));
    body.append(submitter.name, submitter.value);
    setBusy(form, true);
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        setBusy(form, false);
        showDecided(data);
      })
      .catch(function () {
        // Anything unexpected: send the form the plain way and let the server's page speak.
        setBusy(form, false);
        form.setAttribute("data-plain", "true");
        form.requestSubmit(submitter);
      });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    if (!form.classList.contains("decisions") || form.getAttribute("data-plain") === "true") {
      return;
    }
    if (!submitter || submitter.name !== "decision") {
      return;
    }
    event.preventDefault();
    if (form.getAttribute("aria-busy") !== "true") {
      send(form, submitter);
    }
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-level]") : null;
    if (!link) {
      return;
    }
    var figure = link.closest("[data-evidence]");
    var level = link.getAttribute("data-level");
    var img = figure.querySelector("img");
    var src = "/worker/evidence/" + figure.getAttribute("data-evidence") + "/preview.png";
    img.src = level === "blur" ? src : src + "?level=" + encodeURIComponent(level);
    img.alt = link.getAttribute("data-alt");
    figure.querySelector("figcaption").textContent = link.getAttribute("data-caption");
    Array.prototype.forEach.call(figure.querySelectorAll("a[data-level]"), function (other) {
      if (other === link) {
        other.setAttribute("aria-current", "true");
      } else {
        other.removeAttribute("aria-current");
      }
    });
    event.preventDefault();
  });
})();
