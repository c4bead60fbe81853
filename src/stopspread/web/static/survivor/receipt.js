/* StopSpread enrolment, last step: the case code and secret, shown once.
 *
 * Save as a file (a text receipt made here as a Blob), print, copy; "I have saved them"
 * before the way on opens, and a question before the page is left until then. The secret
 * lives in this closure only: never in storage, never in a URL; the quick exit drops it.
 */
(function () {
  "use strict";

  var S = window.StopSpreadSurvivor;
  var t = S.t;
  var STATUS_PATH = "/survivor/status";
  var receipt = null; // {code, secret, sent, total, digests, createdAt}
  var saved = false;

  function $(id) {
    return document.getElementById(id);
  }

  function guard(event) {
    if (receipt && !saved && !S.exiting) {
      event.preventDefault();
      event.returnValue = t("leave_warning");
      return event.returnValue;
    }
    return undefined;
  }

  /* "abcdEFGH..." -> "abcd EFGH ...": easier to read and copy by hand; the status page
     ignores the spaces. The file and the clipboard get the secret as it is. */
  function grouped(secret) {
    if (secret.indexOf("-") >= 0) return secret; // new secrets come grouped: XXXX-XXXX-…
    return (secret.match(/.{1,4}/g) || []).join(" ");
  }

  function statusUrl() {
    return window.location.origin + STATUS_PATH;
  }

  function show(info) {
    receipt = info;
    saved = false;
    $("case-code").textContent = info.code;
    $("case-secret").textContent = grouped(info.secret);
    $("done-count").textContent = t("done_count", { count: info.sent });
    $("print-note").textContent = [
      t("receipt.date", { date: S.formatDate(info.createdAt) }),
      t("receipt.status_url", { url: statusUrl() }),
    ].join(" · ");
    var partial = info.sent < info.total;
    $("partial-send").hidden = !partial;
    $("partial-send").textContent = partial
      ? t("partial_send", { sent: info.sent, total: info.total })
      : "";
    window.addEventListener("beforeunload", guard);
  }

  function receiptText() {
    var lines = [
      t("receipt.heading"),
      "",
      t("receipt.code", { code: receipt.code }),
      t("receipt.secret", { secret: receipt.secret }),
      t("receipt.date", { date: S.formatDate(receipt.createdAt) }),
      t("receipt.count", { count: receipt.sent }),
      t("receipt.status_url", { url: statusUrl() }),
      "",
      t("receipt.warning"),
    ];
    if ($("include-sha").checked && receipt.digests.length) {
      lines.push("", t("receipt.sha_title"));
      lines = lines.concat(receipt.digests);
    }
    return lines.join("\r\n") + "\r\n";
  }

  function download() {
    var blob = new Blob(["\ufeff" + receiptText()], { type: "text/plain;charset=utf-8" });
    var url = URL.createObjectURL(blob);
    var link = document.createElement("a");
    link.href = url;
    link.download = "stopspread-" + receipt.code + ".txt";
    link.hidden = true;
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(function () {
      URL.revokeObjectURL(url);
    }, 60000);
    S.say($("done-status"), t("downloaded"));
  }

  function copy() {
    var text = t("copy_text", { code: receipt.code, secret: receipt.secret });
    var failed = function () {
      window.getSelection().selectAllChildren($("receipt"));
      S.say($("done-status"), t("copy_failed"), true);
    };
    if (!navigator.clipboard || !navigator.clipboard.writeText) {
      failed();
      return;
    }
    navigator.clipboard.writeText(text).then(function () {
      S.say($("done-status"), t("copied"));
    }, failed);
  }

  function setSaved() {
    saved = $("saved-check").checked;
    $("to-status").disabled = !saved;
    $("finish").disabled = !saved;
  }

  function forget() {
    receipt = null;
    $("case-secret").textContent = "";
  }

  function leave(path) {
    forget();
    S.navigate(path);
  }

  $("download-button").addEventListener("click", download);
  $("print-button").addEventListener("click", function () {
    window.print();
  });
  $("copy-button").addEventListener("click", copy);
  $("saved-check").addEventListener("change", setSaved);
  $("to-status").addEventListener("click", function () {
    leave(STATUS_PATH);
  });
  $("finish").addEventListener("click", function () {
    leave("/survivor");
  });
  S.onExit(forget);

  window.StopSpreadReceipt = { show: show };
})();
