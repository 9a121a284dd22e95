/*
 * The offline store: the drafts and the outbox of incidents recorded in this browser, in
 * IndexedDB (through the idb library, served by capdb), each item its user's. Read and
 * written by the pages' scripts and by the service worker alike: a classic script whose
 * global is the window or the worker's.
 *
 * An item:
 *   key        the draft's key, a UUID made when the draft started; the Idempotency-Key
 *              of every request that sends it, so that capdb records it once
 *   user       the id of the user who wrote it (a string)
 *   kind       "new" (a new incident) or "edit" (changes to incident.id)
 *   incident   {id, reference} for an edit, null otherwise
 *   fields     the form's values by field name ("place", "victims-0-category", ...)
 *   state      "draft"    kept as it is typed, not sent
 *              "queued"   saved: to be sent when the link allows
 *              "refused"  capdb refused some fields (errors: by form field id)
 *              "conflict" the incident changed on capdb meanwhile (current: as it is now)
 *              "failed"   capdb cannot take it (message)
 *              "sent"     recorded (result: {id, reference}); its fields are dropped
 *   attempted  a request sending it may have reached capdb, with no answer back: its
 *              fields stay as sent until capdb answers
 * Nothing leaves the store but by the user's action (delete, keep the version on capdb)
 * or once capdb has it.
 */
(function (scope) {
  "use strict";

  var NAME = "capdb-offline";
  var VERSION = 1;
  var CHANNEL = "capdb-offline";
  var ATTENTION = ["refused", "conflict", "failed"];
  // What a form posts that is not the incident's: never kept.
  var NOT_KEPT = ["csrf_token", "save", "add_victim", "draft_key"];
  var opened = null;

  function open() {
    if (!opened) {
      opened = scope.idb.openDB(NAME, VERSION, {
        upgrade: function (db) {
          var items = db.createObjectStore("items", { keyPath: "key" });
          items.createIndex("user", "user");
          db.createObjectStore("meta", { keyPath: "name" });
        },
        // Another page or the worker deletes the store (signing out): let it.
        blocking: function () { close(); },
        terminated: function () { opened = null; }
      });
    }
    return opened;
  }

  function close() {
    if (opened) {
      opened.then(function (db) { db.close(); }).catch(function () {});
      opened = null;
    }
  }

  function announce(key) {
    // Every other page of the application, and the worker, hear that the store changed.
    if (typeof BroadcastChannel === "undefined") {
      return;
    }
    var channel = new BroadcastChannel(CHANNEL);
    channel.postMessage({ key: key });
    channel.close();
  }

  function listen(callback) {
    if (typeof BroadcastChannel === "undefined") {
      return;
    }
    new BroadcastChannel(CHANNEL).onmessage = function (event) { callback(event.data || {}); };
  }

  async function itemsOf(user) {
    var db = await open();
    return db.getAllFromIndex("items", "user", String(user));
  }

  async function allItems() {
    var db = await open();
    return db.getAll("items");
  }

  async function get(key) {
    var db = await open();
    return db.get("items", key);
  }

  async function put(item) {
    var db = await open();
    item.updated = Date.now();
    await db.put("items", item);
    announce(item.key);
    return item;
  }

  async function remove(key) {
    var db = await open();
    await db.delete("items", key);
    announce(key);
  }

  // Change an item in one transaction; the changed item, or undefined when it is gone.
  async function update(key, change) {
    var db = await open();
    var transaction = db.transaction("items", "readwrite");
    var item = await transaction.store.get(key);
    if (item) {
      change(item);
      item.updated = Date.now();
      await transaction.store.put(item);
    }
    await transaction.done;
    if (item) {
      announce(key);
    }
    return item;
  }

  async function getMeta(name) {
    var db = await open();
    var entry = await db.get("meta", name);
    return entry ? entry.value : undefined;
  }

  async function setMeta(name, value) {
    var db = await open();
    await db.put("meta", { name: name, value: value });
  }

  function newItem(key, user, incident) {
    var now = Date.now();
    return {
      key: key,
      user: String(user),
      kind: incident ? "edit" : "new",
      incident: incident || null,
      fields: {},
      state: "draft",
      attempted: false,
      created: now,
      updated: now
    };
  }

  // The incident's values from a form's data (a FormData), without the form's own fields.
  function fieldsOf(formData) {
    var fields = {};
    formData.forEach(function (value, name) {
      if (NOT_KEPT.indexOf(name) === -1 && typeof value === "string") {
        fields[name] = value;
      }
    });
    return fields;
  }

  // A form sent while the link was down, or whose answer was lost: queued as it was sent.
  async function queueSent(key, user, incident, fields) {
    var kept = await update(key, function (item) {
      item.fields = fields;
      item.state = "queued";
      item.attempted = true;
    });
    if (kept || !user) {
      return kept;
    }
    var item = newItem(key, user, incident);
    item.fields = fields;
    item.state = "queued";
    item.attempted = true;
    return put(item);
  }

  function counts(items) {
    var waiting = 0;
    var attention = 0;
    items.forEach(function (item) {
      if (item.state === "queued") {
        waiting += 1;
      } else if (ATTENTION.indexOf(item.state) !== -1) {
        attention += 1;
      }
    });
    return { waiting: waiting, attention: attention };
  }

  async function deleteEverything() {
    close();
    await new Promise(function (resolve) {
      var request = indexedDB.deleteDatabase(NAME);
      // Blocked: the other connections are told (blocking above) and close; it goes on.
      request.onsuccess = request.onerror = request.onblocked = function () { resolve(); };
    });
  }

  scope.capdbOffline = {
    ATTENTION: ATTENTION,
    open: open,
    listen: listen,
    itemsOf: itemsOf,
    allItems: allItems,
    get: get,
    put: put,
    remove: remove,
    update: update,
    getMeta: getMeta,
    setMeta: setMeta,
    newItem: newItem,
    fieldsOf: fieldsOf,
    queueSent: queueSent,
    counts: counts,
    deleteEverything: deleteEverything
  };
})(self);
