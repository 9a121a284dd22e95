/*
 * capdb's service worker: the app shell a mission user records incidents with, without a
 * link. Served by capdb at /service-worker.js after its configuration (self.CAPDB_OFFLINE,
 * from incidents/offline/shell.py: the assets, the user's pages and reference data, and a
 * version that changes with any of them).
 *
 * - The static assets (content-digest URLs) come from its cache first.
 * - Pages come from capdb; without a link, the new-incident form and the outbox come from
 *   the user's cache, and any other page is the one saying that it needs the link.
 * - The user's pages and reference data are fetched when a page tells who is signed in
 *   (pages of another user are dropped first), and again with each new version.
 * - A form of the incident sent while the link is down, or whose answer is lost, goes to
 *   the outbox (the offline store) as it was sent, to be sent again with its draft's key.
 * Nothing else is kept: no page or answer with case data.
 */
"use strict";

var CONFIG = self.CAPDB_OFFLINE;
importScripts.apply(self, CONFIG.scripts);

var ASSETS = "capdb-assets-" + CONFIG.version;
var PAGES = "capdb-pages";
var REFRESH_AFTER = 6 * 3600 * 1000;
var PRECACHE_HEADER = "X-Capdb-Precache";
var EDIT_PAGE = new RegExp("^" + CONFIG.pages.edit.replace("/0/", "/(\\d+)/") + "$");
var store = self.capdbOffline;
var assets = new Set(CONFIG.assets);
var keptPages = new Set([CONFIG.pages.form, CONFIG.pages.outbox, CONFIG.pages.unavailable]);
var keptData = new Set(CONFIG.data);

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(ASSETS)
      .then(function (cache) { return cache.addAll(CONFIG.assets); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim().then(renew));
});

// A new version: the kept pages name the new assets once fetched again; until then the
// old assets stay, so that the pages kept earlier still work without a link.
async function renew() {
  var meta = await store.getMeta("pages");
  var complete = meta && meta.user ? await prepare(meta.user, true) : true;
  if (!complete) {
    return;
  }
  var names = await caches.keys();
  await Promise.all(names
    .filter(function (name) { return name.indexOf("capdb-assets-") === 0 && name !== ASSETS; })
    .map(function (name) { return caches.delete(name); }));
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  var reply = event.ports && event.ports[0];
  var done;
  if (data.type === "user") {
    done = prepare(String(data.user), Boolean(data.force));
  } else if (data.type === "forget") {
    done = forget();
  } else {
    return;
  }
  event.waitUntil(done.then(function (complete) {
    if (reply) {
      reply.postMessage({ type: "prepared", complete: complete !== false });
    }
  }));
});

// Keep the user's pages and reference data, unless kept already for this version.
async function prepare(user, force) {
  var meta = await store.getMeta("pages");
  var sameUser = meta && meta.user === user;
  if (!force && sameUser && meta.version === CONFIG.version && Date.now() - meta.at < REFRESH_AFTER) {
    return true;
  }
  if (!sameUser) {
    await caches.delete(PAGES);
    await store.setMeta("pages", { user: user, version: null, at: 0 });
  }
  var cache = await caches.open(PAGES);
  var urls = Array.from(keptPages).concat(CONFIG.data);
  var results = await Promise.all(urls.map(function (url) { return keep(cache, url); }));
  var complete = results.every(Boolean);
  if (complete) {
    await store.setMeta("pages", { user: user, version: CONFIG.version, at: Date.now() });
  }
  return complete;
}

async function keep(cache, url) {
  try {
    var response = await fetch(url, {
      credentials: "same-origin",
      redirect: "manual",
      cache: "no-store",
      headers: { [PRECACHE_HEADER]: "1" }
    });
    // Signed out, the page is the way to the sign-in page: not kept.
    if (!response.ok || response.type !== "basic") {
      return false;
    }
    await cache.put(url, response);
    return true;
  } catch (error) {
    return false;
  }
}

// Someone who does not record incidents signed in: the pages of the one who did go.
async function forget() {
  await caches.delete(PAGES);
  await store.setMeta("pages", null);
  return true;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.method === "POST" && request.mode === "navigate") {
    if (url.pathname !== CONFIG.logout) {
      event.respondWith(sendForm(request, url));
    }
    return;
  }
  if (request.method !== "GET") {
    return;
  }
  var local = url.pathname + url.search;
  if (assets.has(local)) {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === "navigate") {
    event.respondWith(page(request, url));
  } else if (keptData.has(local) || isBorders(url)) {
    event.respondWith(networkFirst(request, local));
  } else if (/^\/(static|vendor)\//.test(url.pathname)) {
    // An asset of an earlier version, named by a page kept before it was renewed.
    event.respondWith(fetch(request).catch(function () {
      return caches.match(request).then(function (kept) { return kept || Response.error(); });
    }));
  }
});

async function cacheFirst(request) {
  var kept = await caches.match(request, { cacheName: ASSETS });
  if (kept) {
    return kept;
  }
  var response = await fetch(request);
  if (response.ok) {
    var cache = await caches.open(ASSETS);
    await cache.put(request, response.clone());
  }
  return response;
}

async function page(request, url) {
  try {
    return await fetch(request);
  } catch (error) {
    var cache = await caches.open(PAGES);
    var kept = keptPages.has(url.pathname) ? await cache.match(url.pathname) : undefined;
    return kept || unavailable(cache);
  }
}

async function unavailable(cache) {
  var kept = await (cache || await caches.open(PAGES)).match(CONFIG.pages.unavailable);
  return kept || new Response("capdb cannot be reached.", {
    status: 503,
    headers: { "Content-Type": "text/plain; charset=utf-8" }
  });
}

// Reference data: capdb's if it answers, what was kept otherwise.
async function networkFirst(request, local) {
  var cache = await caches.open(PAGES);
  try {
    var response = await fetch(request);
    if (response.ok && response.type === "basic") {
      await cache.put(local, response.clone());
    }
    return response;
  } catch (error) {
    var kept = await cache.match(local);
    return kept || Response.error();
  }
}

function isBorders(url) {
  // The point picker's borders for the world view, the same for everyone; never a
  // bounding box, which would keep a new answer for every view.
  return Boolean(CONFIG.borders) && url.pathname === CONFIG.borders &&
    url.searchParams.get("level") === "admin0" && !url.searchParams.has("bbox");
}

// The incident form, sent: should the link drop, it is kept in the outbox as it was sent.
async function sendForm(request, url) {
  var edited = EDIT_PAGE.exec(url.pathname);
  var isForm = url.pathname === CONFIG.pages.form || Boolean(edited);
  var sent = null;
  if (isForm) {
    try {
      sent = await request.clone().formData();
    } catch (error) {
      sent = null;
    }
  }
  var key = sent && sent.get("draft_key");
  try {
    var response = await fetch(request);
    // A redirection is a saved form: its draft is capdb's now.
    if (key && response.type === "opaqueredirect") {
      await store.remove(key);
    }
    return response;
  } catch (error) {
    if (key && !sent.has("add_victim")) {
      var meta = await store.getMeta("pages");
      var incident = edited ? { id: Number(edited[1]), reference: null } : null;
      var kept = await store.queueSent(key, meta && meta.user, incident, store.fieldsOf(sent));
      if (kept) {
        return Response.redirect(CONFIG.pages.outbox + "?dropped=" + encodeURIComponent(key), 303);
      }
    }
    return unavailable();
  }
}
