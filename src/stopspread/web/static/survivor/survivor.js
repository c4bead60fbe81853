/* StopSpread survivor pages: shared helpers and the quick exit.
 *
 * - Strings come from the page's JSON block (#survivor-messages), never from this file.
 * - Moving between survivor pages replaces the history entry instead of adding one, so the
 *   whole visit is a single entry in the back history; the quick exit replaces that entry
 *   with an ordinary page (see docs/survivor-app.md for what this can and cannot hide).
 * - Nothing is ever written to localStorage, sessionStorage, cookies or IndexedDB here.
 */
(function () {
  "use strict";

  var node = document.getElementById("survivor-messages");
  var messages = node ? JSON.parse(node.textContent) : {};
  var lang = document.documentElement.lang || "ko";
  var exitHooks = [];
  var timers = new WeakMap(); // live region -> pending message
  var api = { exiting: false, lang: lang };

  function t(key, values) {
    var text = messages["survivor.js." + key];
    if (text === undefined) {
      return key;
    }
    return text.replace(/\{([a-zA-Z_]+)\}/g, function (whole, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name)
        ? String(values[name])
        : whole;
    });
  }

  function formatNumber(n) {
    return new Intl.NumberFormat(lang).format(n);
  }

  function formatSize(bytes) {
    var mega = bytes >= 1000 * 1000;
    var unit = mega ? "megabyte" : "kilobyte";
    var value = bytes / (mega ? 1000 * 1000 : 1000);
    return new Intl.NumberFormat(lang, {
      style: "unit",
      unit: unit,
      maximumFractionDigits: 1,
    }).format(value);
  }

  function formatDate(date) {
    return new Intl.DateTimeFormat(lang, { dateStyle: "long", timeStyle: "short" }).format(date);
  }

  /* Move focus to a section's first heading so screen readers announce the new step. */
  function focusHeading(section) {
    var heading = section.querySelector("h1, h2, h3");
    if (heading) {
      if (!heading.hasAttribute("tabindex")) {
        heading.setAttribute("tabindex", "-1");
      }
      heading.focus();
    }
  }

  /* Put a message in a live region (role=status); the same text twice is still announced. */
  function say(element, text, isError) {
    window.clearTimeout(timers.get(element));
    element.classList.toggle("error", Boolean(isError) && text !== "");
    element.textContent = "";
    if (text) {
      timers.set(
        element,
        window.setTimeout(function () {
          element.textContent = text;
        }, 50)
      );
    }
  }

  function navigate(url) {
    window.location.replace(url);
  }

  function onExit(hook) {
    exitHooks.push(hook);
  }

  function runExitHooks() {
    exitHooks.forEach(function (hook) {
      try {
        hook();
      } catch (ignored) {
        /* leaving matters more than tidying up */
      }
    });
  }

  function quickExit(target) {
    api.exiting = true;
    runExitHooks();
    document.title = "";
    document.body.textContent = "";
    window.location.replace(target);
  }

  function isPlainClick(event) {
    return event.button === 0 && !event.ctrlKey && !event.metaKey && !event.shiftKey && !event.altKey;
  }

  /* Leaving the page in any way forgets the secret, so a page the browser keeps in its
     back/forward cache cannot show it again. */
  window.addEventListener("pagehide", runExitHooks);

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!link || link.hasAttribute("download") || !isPlainClick(event)) {
      return;
    }
    if (link.hasAttribute("data-quick-exit")) {
      event.preventDefault();
      quickExit(link.getAttribute("href"));
      return;
    }
    var url = new URL(link.href, window.location.href);
    var web = url.protocol === "http:" || url.protocol === "https:";
    if (web && url.origin === window.location.origin) {
      event.preventDefault();
      navigate(url.href);
    }
  });

  /* GET forms (the age question) also replace the history entry. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || (form.getAttribute("method") || "").toLowerCase() !== "get") {
      return;
    }
    event.preventDefault();
    var params = new URLSearchParams();
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && field.type === "hidden") {
        params.append(field.name, field.value);
      }
    });
    var submitter = event.submitter;
    if (submitter && submitter.name) {
      params.append(submitter.name, submitter.value);
    }
    navigate(form.getAttribute("action") + "?" + params.toString());
  });

  api.t = t;
  api.formatNumber = formatNumber;
  api.formatSize = formatSize;
  api.formatDate = formatDate;
  api.focusHeading = focusHeading;
  api.say = say;
  api.navigate = navigate;
  api.onExit = onExit;
  window.StopSpreadSurvivor = api;
})();
