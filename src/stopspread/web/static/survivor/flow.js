/* StopSpread enrolment: choose files, hash them on this device, confirm, get a case code.
 *
 * The files are read only by window.StopSpreadHashing (hashing/hashing.js) in this browser;
 * the only requests this script makes are the survivor API calls with hashes in JSON.
 * The secret is handed to the receipt step (receipt.js) and forgotten here; it is never
 * put in storage or a URL.
 */
(function () {
  "use strict";

  var S = window.StopSpreadSurvivor;
  var t = S.t;
  var SIGNAL_TYPES = { pdq: true, md5: true }; // what the service takes; the rest stays here
  var LOW_QUALITY = 50; // PDQ quality under 50: too little detail for a reliable hash
  var MAX_RETRIES = 3; // answers 429 waited out before giving up
  var KEYPOINTS_PER_REQUEST = 20; // the API takes at most 20 photos' keypoint records a request

  function $(id) {
    return document.getElementById(id);
  }

  var flow = $("flow");
  var batch = parseInt(flow.getAttribute("data-batch"), 10) || 1000;
  // ss-kp-1 records: only where the service takes them and OpenCV.js is installed
  var withKeypoints = flow.getAttribute("data-keypoints") === "yes";
  var steps = {
    unsupported: $("unsupported"),
    choose: $("step-choose"),
    hashing: $("step-hashing"),
    confirm: $("step-confirm"),
    done: $("step-done"),
  };
  var state = {
    files: [],
    previews: [],
    run: 0,
    controller: null,
    results: [],
    failures: [],
    payload: [],
    keypoints: [],
    keypointsSent: 0,
    code: null,
    secret: null,
    sent: 0,
    createdAt: null,
  };

  function show(name, focus) {
    Object.keys(steps).forEach(function (key) {
      steps[key].hidden = key !== name;
    });
    if (focus !== false) {
      S.focusHeading(steps[name]);
    }
  }

  function hashingAvailable() {
    var hashing = window.StopSpreadHashing;
    try {
      return Boolean(hashing && hashing.supported());
    } catch (ignored) {
      return false;
    }
  }

  /* ---- choose ------------------------------------------------------------------------ */

  function kindOf(file) {
    return (file.type || "").indexOf("video/") === 0 ? "video" : "image";
  }

  function dropPreviews() {
    state.previews.forEach(function (url) {
      URL.revokeObjectURL(url);
    });
    state.previews = [];
  }

  function fileItem(file, index, withPreview) {
    var item = document.createElement("li");
    var text = document.createElement("span");
    text.className = "file-name";
    text.textContent = t("file_item", {
      name: file.name,
      kind: t("kind." + kindOf(file)),
      size: S.formatSize(file.size),
    });
    item.appendChild(text);
    if (withPreview) {
      if (kindOf(file) === "image") {
        var url = URL.createObjectURL(file);
        state.previews.push(url);
        var img = document.createElement("img");
        img.src = url;
        img.alt = t("preview_alt", { name: file.name });
        img.className = "preview";
        item.appendChild(img);
      } else {
        var note = document.createElement("span");
        note.className = "hint";
        note.textContent = t("no_preview_video");
        item.appendChild(note);
      }
    }
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "button--secondary button--small";
    remove.textContent = t("remove");
    remove.setAttribute("aria-label", t("remove_label", { name: file.name }));
    remove.setAttribute("data-index", String(index));
    item.appendChild(remove);
    return item;
  }

  function renderFiles() {
    var list = $("file-list");
    var withPreview = $("show-previews").checked;
    dropPreviews();
    list.textContent = "";
    state.files.forEach(function (file, index) {
      list.appendChild(fileItem(file, index, withPreview));
    });
    $("file-empty").hidden = state.files.length > 0;
    list.hidden = state.files.length === 0;
    $("hash-button").disabled = state.files.length === 0;
  }

  function addFiles(chosen) {
    var known = {};
    state.files.forEach(function (file) {
      known[file.name + "/" + file.size + "/" + file.lastModified] = true;
    });
    chosen.forEach(function (file) {
      var key = file.name + "/" + file.size + "/" + file.lastModified;
      if (!known[key]) {
        known[key] = true;
        state.files.push(file);
      }
    });
    renderFiles();
    S.say($("choose-status"), t("added", { count: state.files.length }));
  }

  function removeFile(index) {
    var removed = state.files.splice(index, 1)[0];
    renderFiles();
    var buttons = $("file-list").querySelectorAll("button");
    var next = buttons[Math.min(index, buttons.length - 1)] || $("choose-button");
    next.focus();
    S.say($("choose-status"), t("removed", { name: removed.name }));
  }

  /* ---- hashing ----------------------------------------------------------------------- */

  /** OpenCV.js (for ss-kp-1) starts loading in the hashing worker as soon as this page
   * opens, while she is still choosing photos: her first photo then need not wait for it. */
  function prepare() {
    if (withKeypoints && hashingAvailable()) {
      window.StopSpreadHashing.prepare({ keypoints: true });
    }
  }

  function setProgress(index, total, fraction, detail) {
    var bar = $("hash-progress");
    bar.value = Math.round((1000 * (index + Math.min(Math.max(fraction, 0), 1))) / total);
    $("hash-detail").textContent = detail || "";
  }

  function onProgress(run, index, total, file) {
    return function (progress) {
      if (run !== state.run || !progress) {
        return;
      }
      var fraction = progress.total ? progress.done / progress.total : 0;
      var detail = "";
      if (progress.stage === "preparing") {
        // OpenCV.js still loading (a slow device, or she was quicker than the page)
        detail = t("progress_preparing");
        if (state.preparingSaid !== run) {
          state.preparingSaid = run;
          S.say($("hash-status"), detail);
        }
      } else if (progress.stage === "frames" && progress.total) {
        detail = t("progress_frames", { done: progress.done, total: progress.total });
      }
      setProgress(index, total, fraction, detail);
    };
  }

  async function hashAll() {
    var run = ++state.run;
    var files = state.files.slice();
    var total = files.length;
    state.controller = typeof AbortController === "function" ? new AbortController() : null;
    state.results = [];
    state.failures = [];
    setProgress(0, total, 0, "");
    show("hashing");
    for (var i = 0; i < total; i++) {
      S.say($("hash-status"), t("progress_file", { n: i + 1, total: total }));
      setProgress(i, total, 0, "");
      try {
        var result = await window.StopSpreadHashing.hashFile(files[i], {
          keypoints: withKeypoints, // ss-kp-1: shape points that survive crops and frames
          onProgress: onProgress(run, i, total, files[i]),
          signal: state.controller ? state.controller.signal : undefined,
        });
        if (run !== state.run) {
          return;
        }
        state.results.push(result);
      } catch (error) {
        if (run !== state.run) {
          return;
        }
        state.failures.push({ name: files[i].name, code: error && error.code });
      }
    }
    setProgress(total, total, 0, "");
    showConfirm();
  }

  function cancel() {
    state.run += 1;
    if (state.controller) {
      state.controller.abort();
    }
    state.results = [];
    state.failures = [];
    prepare(); // stopping ended the worker that had OpenCV.js; load it again for her next try
    show("choose");
    S.say($("choose-status"), t("cancelled"));
  }

  /* ---- confirm ----------------------------------------------------------------------- */

  function buildPayload(results) {
    var seen = {};
    var payload = [];
    results.forEach(function (result) {
      (result.signals || []).forEach(function (signal) {
        var key = signal.type + ":" + signal.value;
        if (!SIGNAL_TYPES[signal.type] || seen[key]) {
          return;
        }
        seen[key] = true;
        var item = { type: signal.type, value: signal.value };
        if (signal.type === "pdq" && typeof signal.quality === "number") {
          item.quality = Math.max(0, Math.min(100, Math.round(signal.quality)));
        }
        if (signal.type === "md5" && result.kind === "video") {
          item.media = "video"; // shared with platforms only as a video's MD5
        }
        payload.push(item);
      });
    });
    return payload;
  }

  /** The photos' ss-kp-1 records for the API's `keypoints` field: {data (base64), pdq (the
   * photo's whole-picture PDQ, so a hit names the photo)}. Photos whose record could not be
   * made (OpenCV.js missing) are simply left out. */
  function buildKeypoints(results) {
    var out = [];
    results.forEach(function (result) {
      if (!result.keypoints || !result.keypoints.data) {
        return;
      }
      var pdq = (result.signals || []).filter(function (s) {
        return s.type === "pdq";
      })[0];
      var item = { data: result.keypoints.data };
      if (pdq) {
        item.pdq = pdq.value;
      }
      out.push(item);
    });
    return out;
  }

  /** The body of one request: a slice of the signals and, while any are left, the next
   * KEYPOINTS_PER_REQUEST keypoint records. */
  function body(signals) {
    var out = { signals: signals };
    var records = state.keypoints.slice(state.keypointsSent, state.keypointsSent + KEYPOINTS_PER_REQUEST);
    if (records.length) {
      out.keypoints = records;
    }
    return out;
  }

  /** The names of the photos too plain to protect well (whole-picture PDQ quality < 50). */
  function lowQualityNames(results) {
    return results.filter(function (result) {
      var first = (result.signals || []).filter(function (s) {
        return s.type === "pdq";
      })[0];
      return result.kind === "image" && first && first.quality < LOW_QUALITY;
    }).map(function (result) {
      return result.name;
    });
  }

  function reason(code) {
    var known = ["unsupported", "too-large", "decode-failed", "no-video-frames"];
    return t("error." + (known.indexOf(code) >= 0 ? code : "other"));
  }

  function showFailures() {
    var list = $("failed-list");
    list.textContent = "";
    state.failures.forEach(function (failure) {
      var item = document.createElement("li");
      item.textContent = t("failed_item", { name: failure.name, reason: reason(failure.code) });
      list.appendChild(item);
    });
    $("confirm-failed").hidden = state.failures.length === 0;
  }

  function showConfirm() {
    state.payload = buildPayload(state.results);
    state.keypoints = buildKeypoints(state.results);
    state.keypointsSent = 0;
    if (state.payload.length === 0) {
      show("choose");
      S.say($("choose-status"), t("none_hashed"), true);
      return;
    }
    $("confirm-count").textContent = t("confirm_count", {
      files: state.results.length,
      count: state.payload.length,
    });
    var low = lowQualityNames(state.results);
    $("confirm-low-quality").hidden = low.length === 0;
    $("confirm-low-quality").textContent = low.length
      ? t("low_quality", { count: low.length, names: low.join(", ") })
      : "";
    showFailures();
    $("send-button").disabled = false;
    $("send-status").textContent = "";
    show("confirm");
  }

  /* ---- send -------------------------------------------------------------------------- */

  function sleep(ms) {
    return new Promise(function (resolve) {
      window.setTimeout(resolve, ms);
    });
  }

  async function postJson(url, body, headers, attempt) {
    var response = await fetch(url, {
      method: "POST",
      headers: Object.assign({ "Content-Type": "application/json" }, headers || {}),
      body: JSON.stringify(body),
      cache: "no-store",
      credentials: "same-origin",
      referrerPolicy: "no-referrer",
    });
    if (response.status === 429 && (attempt || 0) < MAX_RETRIES) {
      var wait = parseInt(response.headers.get("Retry-After"), 10) || 5;
      S.say($("send-status"), t("rate_limited", { seconds: wait }));
      await sleep(wait * 1000);
      return postJson(url, body, headers, (attempt || 0) + 1);
    }
    if (!response.ok) {
      throw new Error("HTTP " + response.status);
    }
    return response.json();
  }

  async function sendRest() {
    var path = "/v1/cases/" + encodeURIComponent(state.code) + "/signals";
    var left = function (at) {
      return at < state.payload.length || state.keypointsSent < state.keypoints.length;
    };
    for (var at = batch; left(at); at += batch) {
      // signals all sent, records left: one known signal again (the service adds nothing)
      var signals = at < state.payload.length ? state.payload.slice(at, at + batch) : state.payload.slice(0, 1);
      try {
        var answer = await postJson(path, body(signals), {
          "X-Case-Secret": state.secret,
        });
        state.keypointsSent += KEYPOINTS_PER_REQUEST;
        state.sent += answer.added;
      } catch (ignored) {
        return;
      }
    }
  }

  /** POST /v1/cases; a service that refuses the keypoint records (422: one without the
   * `keypoints` field) gets her fingerprints alone. */
  async function createCase() {
    try {
      return await postJson("/v1/cases", body(state.payload.slice(0, batch)));
    } catch (error) {
      if (!state.keypoints.length || String(error && error.message) !== "HTTP 422") {
        throw error;
      }
      state.keypoints = [];
      return postJson("/v1/cases", body(state.payload.slice(0, batch)));
    }
  }

  async function send() {
    var button = $("send-button");
    button.disabled = true;
    $("back-button").disabled = true;
    S.say($("send-status"), t("sending"));
    try {
      var created = await createCase();
      state.keypointsSent += KEYPOINTS_PER_REQUEST;
      state.code = created.case_code;
      state.secret = created.secret;
      state.sent = created.signals;
      state.createdAt = new Date();
    } catch (error) {
      S.say($("send-status"), t("send_failed"), true);
      button.disabled = false;
      $("back-button").disabled = false;
      return;
    }
    await sendRest();
    showDone();
  }

  /* ---- done: the receipt step takes over the code and secret (receipt.js) --------- */

  function showDone() {
    var digests = state.results
      .map(function (result) {
        return result.sha256;
      })
      .filter(function (digest, index, all) {
        return digest && all.indexOf(digest) === index;
      });
    window.StopSpreadReceipt.show({
      code: state.code,
      secret: state.secret,
      sent: state.sent,
      total: state.payload.length,
      digests: digests,
      createdAt: state.createdAt,
    });
    forget();
    show("done");
  }

  function forget() {
    state.secret = null;
    state.code = null;
    state.files = [];
    state.results = [];
    state.payload = [];
    dropPreviews();
    $("file-list").textContent = "";
  }

  /* ---- wiring ------------------------------------------------------------------------ */

  $("choose-button").addEventListener("click", function () {
    $("file-input").click();
  });
  $("file-input").addEventListener("change", function (event) {
    var chosen = Array.prototype.slice.call(event.target.files || []);
    event.target.value = "";
    addFiles(chosen);
  });
  $("file-list").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-index]");
    if (button) {
      removeFile(parseInt(button.getAttribute("data-index"), 10));
    }
  });
  $("show-previews").addEventListener("change", renderFiles);
  $("hash-button").addEventListener("click", hashAll);
  $("cancel-button").addEventListener("click", cancel);
  $("back-button").addEventListener("click", function () {
    show("choose");
  });
  $("send-button").addEventListener("click", send);
  S.onExit(forget);

  renderFiles();
  show(hashingAvailable() ? "choose" : "unsupported", false);
  prepare();
})();
