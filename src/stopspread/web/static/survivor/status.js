/* StopSpread status page: counts for a case code and secret, and withdrawal.
 *
 * The secret is sent only in the X-Case-Secret header and kept in this closure while the
 * page is open; the form fields have no names, so it can never end up in a URL.
 * Counts the API does not give yet (notices sent, removed, reappeared) show "not counted
 * yet" and fill in by themselves once the API adds the field (and "<field>_last_at" dates).
 */
(function () {
  "use strict";

  var S = window.StopSpreadSurvivor;
  var t = S.t;
  var CODE_LENGTH = 12; // letters and digits in a case code, shown as XXXX-XXXX-XXXX
  var session = { code: null, secret: null, signals: 0 };

  function $(id) {
    return document.getElementById(id);
  }

  function normalise(raw) {
    var plain = raw.toUpperCase().replace(/[^A-Z0-9]/g, "");
    if (plain.length !== CODE_LENGTH) {
      return raw.trim().toUpperCase();
    }
    return plain.slice(0, 4) + "-" + plain.slice(4, 8) + "-" + plain.slice(8);
  }

  function retryAfter(response) {
    return parseInt(response.headers.get("Retry-After"), 10) || 60;
  }

  function problem(response) {
    if (response.status === 403) {
      return t("status.forbidden");
    }
    if (response.status === 429) {
      return t("status.rate_limited", { seconds: retryAfter(response) });
    }
    return t("status.failed");
  }

  function call(method, path, body) {
    var headers = { "X-Case-Secret": session.secret };
    if (body) {
      headers["Content-Type"] = "application/json";
    }
    return fetch("/v1/cases/" + encodeURIComponent(session.code) + path, {
      method: method,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined,
      cache: "no-store",
      credentials: "same-origin",
      referrerPolicy: "no-referrer",
    });
  }

  function showCount(element, data) {
    var field = element.getAttribute("data-field");
    var value = element.querySelector(".count-value");
    var date = element.querySelector(".count-date");
    var known = typeof data[field] === "number";
    value.textContent = known ? S.formatNumber(data[field]) : t("count.not_yet");
    element.classList.toggle("count--pending", !known);
    var last = data[field + "_last_at"];
    date.textContent = last ? t("count.last", { date: S.formatDate(new Date(last)) }) : "";
  }

  function render(data, focus) {
    session.signals = data.signals || 0;
    $("result-case").textContent = t("status.case", { code: data.case_code || session.code });
    var withdrawn = data.status === "withdrawn";
    $("result-state").textContent = t(withdrawn ? "status.withdrawn" : "status.active");
    $("result-asof").textContent = t("status.as_of", { date: S.formatDate(new Date()) });
    Array.prototype.forEach.call(document.querySelectorAll("#counts .count"), function (el) {
      showCount(el, data);
    });
    $("withdraw").hidden = withdrawn;
    $("withdraw-confirm").hidden = true;
    $("withdraw-button").hidden = false;
    $("result").hidden = false;
    if (focus) {
      S.focusHeading($("result"));
    }
  }

  async function lookup(focus) {
    var message = $("status-message");
    S.say(message, t("checking"));
    var response;
    try {
      response = await call("GET", "");
    } catch (error) {
      S.say(message, t("status.failed"), true);
      return;
    }
    if (!response.ok) {
      S.say(message, problem(response), true);
      if (response.status === 403) {
        forget(false);
      }
      return;
    }
    var data = await response.json();
    S.say(message, "");
    $("secret-input").value = "";
    render(data, focus);
  }

  function submit(event) {
    event.preventDefault();
    var code = normalise($("code-input").value);
    var secret = $("secret-input").value.replace(/\s+/g, ""); // shown in groups of four
    if (!code || !secret) {
      S.say($("status-message"), t("status.missing"), true);
      ($("code-input").value ? $("secret-input") : $("code-input")).focus();
      return;
    }
    $("code-input").value = code;
    session.code = code;
    session.secret = secret;
    lookup(true);
  }

  function forget(announce) {
    session.code = null;
    session.secret = null;
    $("secret-input").value = "";
    $("result").hidden = true;
    if (announce !== false) {
      $("code-input").value = "";
      S.say($("status-message"), t("status.forgotten"));
      $("code-input").focus();
    }
  }

  // Her choice for the evidence a support center gathered: "delete" (checked at first) or "keep".
  function centerEvidence() {
    var keep = $("center-evidence-keep");
    return keep && keep.checked ? "keep" : "delete";
  }

  // What the withdrawal did to the center's evidence, as the server answered it: only what is true.
  function evidenceOutcome(data) {
    if (!data.evidence_records) {
      return t("withdraw.evidence_none");
    }
    var key = data.evidence_erased ? "withdraw.evidence_erased" : "withdraw.evidence_kept";
    return t(key, { count: S.formatNumber(data.evidence_records) });
  }

  function askWithdraw() {
    $("withdraw-confirm-body").textContent = t("withdraw.confirm_" + centerEvidence(), {
      count: S.formatNumber(session.signals),
    });
    $("withdraw-confirm").hidden = false;
    $("withdraw-button").hidden = true;
    S.say($("withdraw-message"), "");
    S.focusHeading($("withdraw-confirm"));
  }

  function keep() {
    $("withdraw-confirm").hidden = true;
    $("withdraw-button").hidden = false;
    S.say($("withdraw-message"), t("withdraw.kept"));
    $("withdraw-button").focus();
  }

  async function withdraw() {
    var message = $("withdraw-message");
    $("withdraw-yes").disabled = true;
    S.say(message, t("withdraw.working"));
    var response;
    try {
      response = await call("POST", "/withdraw", { center_evidence: centerEvidence() });
    } catch (error) {
      response = null;
    }
    $("withdraw-yes").disabled = false;
    if (!response || !response.ok) {
      S.say(message, response ? problem(response) : t("withdraw.failed"), true);
      return;
    }
    var data = await response.json();
    session.code = null;
    session.secret = null;
    $("status-form").hidden = true;
    $("result").hidden = true;
    $("withdrawn-body").textContent = t("withdraw.done_body", {
      count: S.formatNumber(data.withdrawn),
    });
    $("withdrawn-evidence").textContent = evidenceOutcome(data);
    $("withdrawn").hidden = false;
    S.focusHeading($("withdrawn"));
  }

  $("status-form").addEventListener("submit", submit);
  $("show-secret").addEventListener("change", function (event) {
    $("secret-input").type = event.target.checked ? "text" : "password";
  });
  $("refresh-button").addEventListener("click", function () {
    lookup(false);
  });
  $("forget-button").addEventListener("click", forget);
  $("withdraw-button").addEventListener("click", askWithdraw);
  $("withdraw-no").addEventListener("click", keep);
  $("withdraw-yes").addEventListener("click", withdraw);
  S.onExit(function () {
    session.code = null;
    session.secret = null;
    $("secret-input").value = "";
    $("result").hidden = true;
  });
})();
