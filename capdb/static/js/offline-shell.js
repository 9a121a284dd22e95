/*
 * The offline shell, on every page of a user who records incidents (markup:
 * incidents/templates/offline/_status.html):
 *
 * - registers capdb's service worker and tells it who is signed in, so that it keeps
 *   that user's pages for recording without a link;
 * - shows the outbox in the header ("2 waiting to send");
 * - sends the outbox when the link allows: each queued incident through the API, with its
 *   draft's key as Idempotency-Key, so that capdb records it once however often it is
 *   sent; capdb's answer goes back onto the item (refused fields, a conflict, a failure);
 * - on signing out, asks about anything not sent, then clears what this browser kept.
 *
 * For any other signed-in user it only tells a worker left by someone else to forget
 * that user's pages. Other scripts reach the outbox through window.capdbOutbox.
 */
(function () {
  "use strict";

  var shell = document.querySelector("[data-offline-shell]");
  if (!shell || !("serviceWorker" in navigator)) {
    return;
  }
  var user = shell.dataset.offlineUser;
  if (!user) {
    if (navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "forget" });
    }
    return;
  }
  var store = window.capdbOffline;
  if (!store) {
    return;
  }
  var DEGREES = /^[+-]?(\d{1,3}([.,]\d{0,12})?|[.,]\d{1,12})$/;
  var RETRY_EVERY = 60 * 1000;
  var fields = JSON.parse(shell.dataset.fields);
  var link = shell.querySelector(".outbox-link");
  var note = shell.querySelector(".offline-note");
  var signedOut = false;
  var flushing = null;

  function text(name, count) {
    var plural = shell.dataset.lang === "fr" ? count > 1 : count !== 1;
    var value = shell.dataset["text" + name + (count === undefined ? "" : plural ? "Other" : "One")];
    return count === undefined ? value : value.replace("{n}", String(count));
  }

  // The header ----------------------------------------------------------------------------

  async function showStatus() {
    var counts = store.counts(await store.itemsOf(user));
    var parts = [];
    if (counts.waiting) {
      parts.push(text("Waiting", counts.waiting));
    }
    if (counts.attention) {
      parts.push(text("Attention", counts.attention));
    }
    if (counts.waiting && signedOut) {
      parts.push(text("SignIn"));
    }
    link.textContent = parts.join(" · ");
    link.hidden = parts.length === 0;
    note.textContent = navigator.onLine ? "" : text("Offline");
  }

  // The service worker --------------------------------------------------------------------

  function register() {
    return navigator.serviceWorker.register(shell.dataset.serviceWorker, { scope: "/" })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) { return prepare(registration.active); })
      .catch(function () { /* without a worker the page works as before, online only */ });
  }

  function prepare(worker) {
    return new Promise(function (resolve) {
      var channel = new MessageChannel();
      channel.port1.onmessage = function (event) {
        if (event.data && event.data.complete) {
          shell.dataset.offlineReady = "true";
        }
        resolve();
      };
      worker.postMessage({ type: "user", user: user }, [channel.port2]);
    });
  }

  // Sending the outbox --------------------------------------------------------------------

  function flush() {
    if (!flushing) {
      var run = navigator.locks
        ? navigator.locks.request("capdb-outbox", sendAll)
        : sendAll();
      flushing = run.finally(function () {
        flushing = null;
        showStatus();
      });
    }
    return flushing;
  }

  async function sendAll() {
    var queued = (await store.itemsOf(user)).filter(function (item) {
      return item.state === "queued";
    });
    if (!queued.length) {
      return { sent: 0 };
    }
    var session = await signedIn();
    if (session.offline) {
      return { offline: true };
    }
    signedOut = !session.csrf || String(session.user) !== user;
    if (signedOut) {
      return { signedOut: true };
    }
    var sent = 0;
    for (var i = 0; i < queued.length; i += 1) {
      var outcome = await sendOne(queued[i].key, session.csrf);
      if (outcome === "offline" || outcome === "signed out") {
        signedOut = outcome === "signed out";
        return { offline: outcome === "offline", signedOut: signedOut, sent: sent };
      }
      sent += outcome === "sent" ? 1 : 0;
    }
    return { sent: sent };
  }

  async function signedIn() {
    try {
      var response = await fetch(shell.dataset.session, {
        credentials: "same-origin",
        redirect: "manual",
        cache: "no-store"
      });
      if (!response.ok) {
        return {};
      }
      var answer = await response.json();
      return { user: answer.user, csrf: answer.csrf_token };
    } catch (error) {
      return { offline: true };
    }
  }

  async function sendOne(key, csrf) {
    var item = await store.get(key);
    if (!item || item.state !== "queued") {
      return "skipped";  // changed meanwhile, in another page
    }
    var request = requestFor(item);
    await store.update(key, function (kept) {
      kept.attempted = true;
      kept.victimRows = request.victimRows;
    });
    var response;
    try {
      response = await fetch(request.url, {
        method: request.method,
        credentials: "same-origin",
        cache: "no-store",
        headers: {
          "Content-Type": "application/json",
          "X-CSRFToken": csrf,
          "Idempotency-Key": key
        },
        body: JSON.stringify(request.body)
      });
    } catch (error) {
      return "offline";  // still queued; sent again, with its key, when the link returns
    }
    var answer = await response.json().catch(function () { return null; });
    var outcome = "kept";
    await store.update(key, function (kept) {
      outcome = settle(kept, response.status, answer || {}, request);
    });
    return outcome;
  }

  // capdb's answer onto the item; what became of it.
  function settle(item, status, answer, request) {
    if (status === 200 || status === 201) {
      return sent(item, answer);
    }
    if (status === 401) {
      item.attempted = false;
      return "signed out";
    }
    if (status === 409 && item.kind === "edit" && answer.current) {
      if (sameAs(request.body, answer.current)) {
        return sent(item, answer.current, true);  // its answer was lost; capdb has it
      }
      item.state = "conflict";
      item.current = answer.current;
      item.attempted = false;
      return "conflict";
    }
    if (status === 422 && !(answer.errors && answer.errors["Idempotency-Key"])) {
      item.state = "refused";
      item.errors = formErrors(answer, request.victimRows);
      item.attempted = false;
      return "refused";
    }
    if (status === 403 || status === 404 || status === 422) {
      item.state = "failed";
      item.message = answer.error || String(status);
      item.attempted = false;
      return "failed";
    }
    return "kept";  // busy or unavailable (409 without a free reference, 429, 5xx): later
  }

  function sent(item, answer, already) {
    item.state = "sent";
    item.result = { id: answer.id, reference: answer.reference, already: Boolean(already) };
    item.fields = {};
    item.current = null;
    item.errors = null;
    item.attempted = false;
    return "sent";
  }

  // The API's field names (victims.2.outcome) as the form's ids (victims-5-outcome).
  function formErrors(answer, victimRows) {
    var errors = {};
    var general = [];
    Object.keys(answer.errors || {}).forEach(function (name) {
      var parts = name.split(".");
      var id = null;
      if (parts[0] === "victims" && parts.length === 3 && victimRows[Number(parts[1])] !== undefined) {
        id = "victims-" + victimRows[Number(parts[1])] + "-" + parts[2];
      } else if (parts.length === 1 && (fields.incident[name] || name === "victims")) {
        id = name;
      }
      if (id) {
        errors[id] = answer.errors[name];
      } else {
        general = general.concat(answer.errors[name]);
      }
    });
    if (!Object.keys(errors).length && !general.length) {
      general.push(answer.error || "");
    }
    if (general.length) {
      errors[""] = general;
    }
    return errors;
  }

  // The form's values as the API takes them --------------------------------------------

  function requestFor(item) {
    var body = {};
    Object.keys(fields.incident).forEach(function (name) {
      setValue(body, name, fields.incident[name], item.fields[name]);
    });
    var rows = victimRows(item);
    body.victims = rows.map(function (index) { return victim(item, index); });
    var api = shell.dataset.api;
    if (item.kind === "edit") {
      body.version = Number(item.fields.version);
      return { method: "PUT", url: api + "/" + item.incident.id, body: body, victimRows: rows };
    }
    return { method: "POST", url: api, body: body, victimRows: rows };
  }

  function setValue(body, name, declared, value) {
    var kind = declared[0];
    var nullable = declared[1];
    value = value === undefined ? "" : value;
    if (kind === "degrees") {
      var typed = value.trim();
      body[name] = typed === "" ? null : DEGREES.test(typed) ? Number(typed.replace(",", ".")) : typed;
    } else if (value === "" && kind !== "text" && kind !== "long_text") {
      if (nullable) {
        body[name] = null;
      }  // otherwise left out: capdb's default, or its "required"
    } else {
      body[name] = value;
    }
  }

  // The victim rows to send, by their index on the form: blank rows are spare ones, and
  // rows marked for removal are left out (an edit removes the victims it does not send).
  function victimRows(item) {
    var indexes = {};
    Object.keys(item.fields).forEach(function (name) {
      var match = /^victims-(\d+)-/.exec(name);
      if (match) {
        indexes[Number(match[1])] = true;
      }
    });
    return Object.keys(indexes).map(Number).sort(function (a, b) { return a - b; })
      .filter(function (index) {
        var value = function (name) { return item.fields["victims-" + index + "-" + name] || ""; };
        if (value("remove")) {
          return false;
        }
        var filled = Object.keys(fields.victim).some(function (name) {
          return !(name in fields.defaults) && value(name) !== "";
        });
        return filled || value("victim_id") !== "";
      });
  }

  function victim(item, index) {
    var body = {};
    var prefix = "victims-" + index + "-";
    Object.keys(fields.victim).forEach(function (name) {
      setValue(body, name, fields.victim[name], item.fields[prefix + name]);
    });
    if (item.kind === "edit") {
      var id = item.fields[prefix + "victim_id"];
      body.id = id ? Number(id) : null;
      body.version = id ? Number(item.fields[prefix + "victim_version"]) : null;
    }
    return body;
  }

  // Whether capdb's record already holds what the edit sends (its first answer was lost).
  function sameAs(mine, current) {
    var same = function (a, b) {
      return (a === undefined || a === null ? "" : String(a)) === (b === undefined || b === null ? "" : String(b));
    };
    var fieldsSame = Object.keys(fields.incident).every(function (name) {
      return !(name in mine) || same(mine[name], current[name]);
    });
    var theirs = current.victims || [];
    if (!fieldsSame || mine.victims.length !== theirs.length) {
      return false;
    }
    return mine.victims.every(function (victim) {
      var match = theirs.filter(function (other) { return other.id === victim.id; })[0];
      return match && Object.keys(fields.victim).every(function (name) {
        return !(name in victim) || same(victim[name], match[name]);
      });
    });
  }

  // Signing out ----------------------------------------------------------------------------

  function guardSignOut() {
    var form = document.querySelector('form[action="' + shell.dataset.logout + '"]');
    if (!form) {
      return;
    }
    var cleared = false;
    form.addEventListener("submit", async function (event) {
      if (cleared) {
        return;
      }
      event.preventDefault();
      if (!navigator.onLine) {
        note.textContent = text("SignOutOffline");
        return;
      }
      var unsent = (await store.allItems()).filter(function (item) { return item.state !== "sent"; });
      if (unsent.length && !window.confirm(text("SignOutConfirm"))) {
        return;
      }
      await forgetEverything();
      cleared = true;
      // Leaving the page now is what the user asked; its form's drafts went with the rest.
      document.documentElement.setAttribute("data-signing-out", "");
      form.requestSubmit(event.submitter);
    });
  }

  async function forgetEverything() {
    var registrations = await navigator.serviceWorker.getRegistrations();
    await Promise.all(registrations.map(function (registration) { return registration.unregister(); }));
    var names = await caches.keys();
    await Promise.all(names.filter(function (name) { return name.indexOf("capdb-") === 0; })
      .map(function (name) { return caches.delete(name); }));
    await store.deleteEverything();
  }

  // Starting ------------------------------------------------------------------------------

  window.capdbOutbox = { flush: flush, showStatus: showStatus, requestFor: requestFor, user: user };
  store.listen(showStatus);
  window.addEventListener("online", function () { showStatus(); flush(); });
  window.addEventListener("offline", showStatus);
  setInterval(function () {
    if (navigator.onLine) {
      flush();
    }
  }, RETRY_EVERY);
  guardSignOut();
  showStatus();
  register().then(function () {
    if (navigator.onLine) {
      flush();
    }
  });
})();
