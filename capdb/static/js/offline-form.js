/*
 * The incident form's draft, kept in this browser (offline-store.js) as it is typed:
 * every few seconds and at every change, under a key made when the draft starts, which
 * the form sends along (capdb claims it: incidents/recording/drafts.py) and the outbox
 * sends as Idempotency-Key.
 *
 * - Opening the form offers the draft left on it; ?draft=KEY opens that draft, with the
 *   fields capdb refused marked as the form would mark them.
 * - Victim rows are added here, without a round trip to capdb.
 * - Saving with a link sends the form as always (should the link drop on the way, the
 *   service worker keeps it in the outbox); saving without one queues it in the outbox.
 * - Leaving the page with changes not saved asks first.
 * Without this script (or without IndexedDB) the form works as it always did.
 */
(function () {
  "use strict";

  var form = document.querySelector("form[data-offline-form]");
  var shell = document.querySelector("[data-offline-shell]");
  var texts = document.getElementById("offline-form-texts");
  var store = window.capdbOffline;
  if (!form || !shell || !texts || !store || !shell.dataset.offlineUser || !window.crypto.randomUUID) {
    return;
  }
  var AUTOSAVE_EVERY = 3000;
  var user = shell.dataset.offlineUser;
  var declared = JSON.parse(shell.dataset.fields);
  var keyInput = form.elements.namedItem("draft_key");
  var target = form.dataset.incidentId
    ? { id: Number(form.dataset.incidentId), reference: form.dataset.incidentReference }
    : null;
  // Sent back by capdb (refused, or changed meanwhile) when the key is there already.
  var cameBack = keyInput.value !== "";
  var item = null;
  var dirty = false;
  var unsaved = false;
  var submitting = false;
  var filling = false;
  var saving = Promise.resolve();
  if (!cameBack) {
    keyInput.value = window.crypto.randomUUID();
  }

  function say(message, kind) {
    var box = document.createElement("div");
    box.className = "offline-message " + (kind || "");
    box.setAttribute("role", "status");
    box.tabIndex = -1;
    var paragraph = document.createElement("p");
    paragraph.textContent = message;
    box.appendChild(paragraph);
    form.parentNode.insertBefore(box, form);
    return box;
  }

  function button(label, action, kind) {
    var element = document.createElement("button");
    element.type = "button";
    element.textContent = label;
    if (kind) {
      element.className = kind;
    }
    element.addEventListener("click", action);
    return element;
  }

  function sameTarget(other) {
    return target ? other.kind === "edit" && other.incident && other.incident.id === target.id
      : other.kind === "new";
  }

  // Victim rows ----------------------------------------------------------------------------

  function victimRows() {
    return form.querySelectorAll("fieldset.victim");
  }

  function rowIndex(row) {
    var named = row.querySelector("[name^='victims-']");
    return Number(/^victims-(\d+)-/.exec(named.name)[1]);
  }

  function addVictimRow() {
    var rows = victimRows();
    if (rows.length >= Number(form.dataset.maxVictims)) {
      return null;
    }
    var last = rows[rows.length - 1];
    var before = "victims-" + rowIndex(last) + "-";
    var after = "victims-" + (Math.max.apply(null, Array.prototype.map.call(rows, rowIndex)) + 1) + "-";
    var row = last.cloneNode(true);
    row.querySelectorAll("*").forEach(function (element) {
      ["id", "name", "for", "aria-describedby"].forEach(function (attribute) {
        var value = element.getAttribute(attribute);
        if (value && value.indexOf(before) !== -1) {
          element.setAttribute(attribute, value.split(before).join(after));
        }
      });
    });
    row.querySelectorAll("p.error").forEach(function (error) { error.remove(); });
    row.querySelectorAll(".invalid").forEach(function (field) { field.classList.remove("invalid"); });
    row.querySelectorAll("input, select, textarea").forEach(function (input) {
      input.removeAttribute("aria-invalid");
      var name = input.name.slice(after.length);
      if (input.type === "checkbox") {
        input.checked = false;
      } else if (input.tagName === "SELECT") {
        input.value = name in declared.defaults ? declared.defaults[name] : "";
      } else {
        input.value = "";
      }
    });
    var legend = row.querySelector("legend");
    legend.textContent = legend.textContent.replace(/\d+/, String(rows.length + 1));
    last.parentNode.insertBefore(row, last.nextSibling);
    return row;
  }

  // The draft ------------------------------------------------------------------------------

  function collect() {
    return store.fieldsOf(new FormData(form));
  }

  function fill(fields) {
    var needed = 0;
    Object.keys(fields).forEach(function (name) {
      var match = /^victims-(\d+)-/.exec(name);
      if (match) {
        needed = Math.max(needed, Number(match[1]) + 1);
      }
    });
    while (victimRows().length < needed && addVictimRow()) { /* one more row */ }
    Array.prototype.forEach.call(form.elements, function (input) {
      if (!input.name || input === keyInput || input.name === "csrf_token" || input.type === "submit") {
        return;
      }
      if (input.type === "checkbox") {
        input.checked = input.name in fields;
      } else if (input.name in fields) {
        input.value = fields[input.name];
      }
    });
    // The point picker follows its inputs; that is no change of the draft.
    filling = true;
    ["latitude", "longitude"].forEach(function (name) {
      var input = form.elements.namedItem(name);
      if (input) {
        input.dispatchEvent(new Event("input", { bubbles: true }));
      }
    });
    filling = false;
  }

  function save() {
    saving = saving.then(async function () {
      dirty = false;
      if (!item) {
        item = store.newItem(keyInput.value, user, target);
      }
      var fields = collect();
      var kept = await store.update(item.key, function (stored) {
        stored.fields = fields;
        stored.state = "draft";
        stored.attempted = false;
      });
      if (!kept) {
        item.fields = fields;
        item.state = "draft";
        kept = await store.put(item);
      }
      item = kept;
    }).catch(function () { /* the store is unavailable: the form still works online */ });
    return saving;
  }

  function changed(now) {
    if (filling || form.hasAttribute("data-frozen")) {
      return;
    }
    dirty = true;
    unsaved = true;
    if (now) {
      save();
    }
  }

  function open(found, message) {
    item = found;
    keyInput.value = found.key;
    fill(found.fields);
    if (found.state === "refused") {
      say(texts.dataset.refused, "warning");
      markErrors(found.errors || {});
    } else if (found.state === "queued" && found.attempted) {
      say(texts.dataset.frozen);
      form.setAttribute("data-frozen", "");
      Array.prototype.forEach.call(form.elements, function (input) { input.disabled = true; });
    } else if (found.state === "queued") {
      say(texts.dataset.queued);
    } else if (message) {
      say(message);
    }
  }

  function offer(draft) {
    var when = new Date(draft.updated).toLocaleString(document.documentElement.lang);
    var box = say(texts.dataset.offer.replace("{time}", when), "offer");
    var actions = document.createElement("p");
    actions.appendChild(button(texts.dataset.continue, function () {
      box.remove();
      open(draft);
    }, "primary"));
    actions.appendChild(document.createTextNode(" "));
    actions.appendChild(button(texts.dataset.startAfresh, function () { box.remove(); }));
    box.appendChild(actions);
  }

  // Errors capdb found, as the form shows its own (capdb/templates/_forms.html) ------------

  function markErrors(errors) {
    var summary = document.createElement("div");
    summary.className = "error-summary";
    summary.setAttribute("role", "alert");
    summary.tabIndex = -1;
    var title = document.createElement("p");
    title.textContent = texts.dataset.errorsTitle;
    summary.appendChild(title);
    var list = document.createElement("ul");
    Object.keys(errors).forEach(function (id) {
      var message = errors[id].join(" ");
      var entry = document.createElement("li");
      var input = id ? document.getElementById(id) : null;
      if (!input) {
        entry.textContent = message;
      } else {
        var anchor = document.createElement("a");
        anchor.href = "#" + id;
        anchor.textContent = labelOf(input);
        entry.appendChild(anchor);
        entry.appendChild(document.createTextNode(": " + message));
        markField(input, message);
      }
      list.appendChild(entry);
    });
    summary.appendChild(list);
    form.parentNode.insertBefore(summary, form);
    summary.focus();
  }

  function labelOf(input) {
    var label = form.querySelector("label[for='" + input.id + "']");
    var text = label ? label.textContent.trim() : input.querySelector("legend").textContent.trim();
    var row = input.closest("fieldset.victim");
    return row ? row.querySelector("legend").textContent.trim() + ": " + text : text;
  }

  function markField(input, message) {
    var error = document.createElement("p");
    error.className = "error";
    error.id = input.id + "-error";
    error.textContent = message;
    var field = input.closest(".field");
    if (field) {
      field.classList.add("invalid");
      input.setAttribute("aria-invalid", "true");
      var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      described.push(error.id);
      input.setAttribute("aria-describedby", described.join(" "));
      input.insertAdjacentElement("afterend", error);
    } else {
      input.insertBefore(error, input.querySelector("legend").nextSibling);
    }
  }

  // Saving ---------------------------------------------------------------------------------

  async function queue(submitter) {
    // Without a link: kept in the outbox, sent by the shell when the link returns.
    await save();
    await store.update(item.key, function (stored) {
      stored.state = "queued";
      stored.attempted = false;
    });
    unsaved = false;
    form.hidden = true;
    var box = say(texts.dataset.saved, "saved");
    var links = document.createElement("p");
    var another = document.createElement("a");
    another.href = window.location.pathname;
    another.className = "button primary";
    another.textContent = texts.dataset.recordAnother;
    var outbox = document.createElement("a");
    outbox.href = shell.querySelector(".outbox-link").getAttribute("href");
    outbox.className = "button";
    outbox.textContent = texts.dataset.outbox;
    links.appendChild(another);
    links.appendChild(document.createTextNode(" "));
    links.appendChild(outbox);
    box.appendChild(links);
    box.focus();
    if (submitter) {
      submitter.disabled = true;
    }
  }

  async function send(submitter) {
    // With a link: the form goes to capdb as always. Until capdb answers, the draft waits
    // in the outbox, marked as possibly received; the service worker drops it once saved.
    await save();
    await store.update(item.key, function (stored) {
      stored.state = "queued";
      stored.attempted = true;
    });
    submitting = true;
    form.requestSubmit(submitter);
  }

  form.addEventListener("submit", function (event) {
    if (submitting) {
      return;
    }
    var submitter = event.submitter;
    event.preventDefault();
    if (submitter && submitter.name === "add_victim") {
      var row = addVictimRow();
      if (row) {
        row.querySelector("select").focus();
        changed(true);
      }
      return;
    }
    (navigator.onLine ? send(submitter) : queue(submitter)).catch(function () {
      // The store failed: send the form as it would be without this script.
      submitting = true;
      form.requestSubmit(submitter);
    });
  });

  form.addEventListener("input", function () { changed(false); });
  form.addEventListener("change", function () { changed(true); });
  setInterval(function () {
    if (dirty) {
      save();
    }
  }, AUTOSAVE_EVERY);
  window.addEventListener("beforeunload", function (event) {
    if (unsaved && !submitting && !document.documentElement.hasAttribute("data-signing-out")) {
      save();
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // Starting -------------------------------------------------------------------------------

  async function start() {
    if (!navigator.onLine) {
      say(texts.dataset.offline);
    }
    var asked = new URLSearchParams(window.location.search).get("draft");
    var found = asked ? await store.get(asked) : null;
    if (found && found.user === user && sameTarget(found) && found.state !== "sent") {
      open(found);
      return;
    }
    if (cameBack) {
      // The form came back from capdb: refused, or changed meanwhile. Not saved: a draft.
      item = (await store.get(keyInput.value)) || null;
      if (form.hasAttribute("data-refused") || !item) {
        await save();
      }
      unsaved = form.hasAttribute("data-refused");
      return;
    }
    var drafts = (await store.itemsOf(user)).filter(function (other) {
      return other.state === "draft" && sameTarget(other);
    }).sort(function (a, b) { return b.updated - a.updated; });
    if (drafts.length) {
      offer(drafts[0]);
    }
  }

  start().catch(function () { /* no store: the form works online as it always did */ });
})();
