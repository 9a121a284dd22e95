/*
 * The drafts and outbox page (incidents/templates/offline/outbox.html), filled from this
 * browser's store: what waits to be sent, what capdb refused or found changed meanwhile
 * (both versions side by side, for the user to keep one), the drafts not saved yet, and
 * what was sent. Values are named with the vocabularies and reference data, which the
 * service worker keeps for use without a link. Nothing here is dropped but by the user.
 */
(function () {
  "use strict";

  var page = document.querySelector("[data-outbox]");
  var store = window.capdbOffline;
  var outbox = window.capdbOutbox;
  if (!page || !store || !outbox) {
    return;
  }
  var lang = document.documentElement.lang === "fr" ? "fr" : "en";
  var labels = JSON.parse(page.dataset.labels);
  var declared = JSON.parse(document.querySelector("[data-offline-shell]").dataset.fields);
  var progress = page.querySelector(".outbox-progress");
  var names = { vocabularies: {}, missions: {}, countries: {} };
  var GROUPS = { queued: "queued", draft: "draft", sent: "sent", refused: "attention", conflict: "attention", failed: "attention" };

  function text(name, values) {
    var value = page.dataset["text" + name];
    Object.keys(values || {}).forEach(function (key) {
      value = value.replace("{" + key + "}", values[key]);
    });
    return value;
  }

  function element(tag, content, className) {
    var made = document.createElement(tag);
    if (content !== undefined && content !== null) {
      made.textContent = content;
    }
    if (className) {
      made.className = className;
    }
    return made;
  }

  function action(label, run, kind) {
    var button = element("button", label, kind);
    button.type = "button";
    button.addEventListener("click", function () {
      button.disabled = true;
      Promise.resolve(run()).finally(render);
    });
    return button;
  }

  // Naming values -------------------------------------------------------------------------

  async function loadNames() {
    try {
      var vocabularies = await (await fetch(page.dataset.vocabularies, { credentials: "same-origin" })).json();
      Object.keys(vocabularies.vocabularies).forEach(function (name) {
        var terms = {};
        vocabularies.vocabularies[name].terms.forEach(function (term) { terms[term.code] = term[lang]; });
        names.vocabularies[name] = terms;
      });
      var reference = await (await fetch(page.dataset.reference, { credentials: "same-origin" })).json();
      reference.missions.forEach(function (mission) { names.missions[mission.code] = mission.code + " · " + mission[lang]; });
      reference.countries.forEach(function (country) { names.countries[country.code] = country[lang]; });
    } catch (error) {
      // Without them values show as their codes.
    }
  }

  function shown(description, value) {
    if (value === undefined || value === null || value === "") {
      return "—";
    }
    var kind = description[0];
    var vocabulary = description[2];
    if (vocabulary && names.vocabularies[vocabulary]) {
      return names.vocabularies[vocabulary][value] || String(value);
    }
    if (kind === "mission") {
      return names.missions[value] || String(value);
    }
    if (kind === "country") {
      return names.countries[value] || String(value);
    }
    return String(value);
  }

  function victimName(number) {
    return text("Victim", { n: String(number) });
  }

  // Items ---------------------------------------------------------------------------------

  function title(item) {
    if (item.kind === "edit") {
      return text("Changes", { reference: item.incident.reference || "#" + item.incident.id });
    }
    var facts = [item.fields.occurred_on, item.fields.place].filter(Boolean);
    if (item.fields.mission) {
      facts.push(item.fields.mission);
    }
    return text("New") + (facts.length ? " · " + facts.join(" · ") : "");
  }

  function formUrl(item) {
    var base = item.kind === "edit"
      ? page.dataset.editUrl.replace("/0/", "/" + item.incident.id + "/")
      : page.dataset.formUrl;
    return base + "?draft=" + encodeURIComponent(item.key);
  }

  function link(label, href, kind) {
    var anchor = element("a", label, kind);
    anchor.href = href;
    return anchor;
  }

  function deleting(item, question) {
    return action(text(question ? "KeepTheirs" : "Delete"), function () {
      if (window.confirm(text(question || "DeleteConfirm"))) {
        return store.remove(item.key);
      }
      return null;
    }, question ? "" : "danger");
  }

  function itemEntry(item) {
    var entry = element("li", null, "outbox-item " + item.state);
    entry.id = "item-" + item.key;
    entry.appendChild(element("p", title(item), "outbox-title"));
    var when = new Date(item.updated).toLocaleString(lang);
    entry.appendChild(element("p", text("ChangedOn", { time: when }), "muted"));
    var actions = element("p", null, "outbox-item-actions");
    if (item.state === "draft") {
      actions.appendChild(link(text("Continue"), formUrl(item), "button primary"));
      actions.appendChild(deleting(item));
    } else if (item.state === "queued" && item.attempted) {
      entry.appendChild(element("p", text("OnItsWay")));
    } else if (item.state === "queued") {
      actions.appendChild(link(text("Change"), formUrl(item), "button"));
      actions.appendChild(deleting(item));
    } else if (item.state === "refused") {
      entry.appendChild(element("p", text("Refused"), "error"));
      entry.appendChild(errorList(item.errors || {}));
      actions.appendChild(link(text("Correct"), formUrl(item), "button primary"));
      actions.appendChild(deleting(item));
    } else if (item.state === "conflict") {
      entry.appendChild(element("p", text("Conflict"), "error"));
      entry.appendChild(comparison(item));
      actions.appendChild(action(text("KeepMine"), function () { return keepMine(item); }, "primary"));
      actions.appendChild(deleting(item, "KeepTheirsConfirm"));
    } else if (item.state === "failed") {
      entry.appendChild(element("p", text("Failed") + " " + (item.message || ""), "error"));
      actions.appendChild(deleting(item));
    } else if (item.state === "sent") {
      sentLine(entry, item);
    }
    entry.appendChild(actions);
    return entry;
  }

  function sentLine(entry, item) {
    var result = item.result || {};
    var line = element("p");
    if (result.id) {
      var detail = page.dataset.detailUrl.replace(/\/0$/, "/" + result.id);
      line.appendChild(link(text("Recorded", { reference: result.reference || "#" + result.id }), detail));
    }
    if (result.already) {
      line.appendChild(document.createTextNode(" " + text("Already")));
    }
    entry.appendChild(line);
  }

  function errorList(errors) {
    var list = element("ul", null, "outbox-errors");
    Object.keys(errors).forEach(function (id) {
      list.appendChild(element("li", (id ? fieldLabel(id) + ": " : "") + errors[id].join(" ")));
    });
    return list;
  }

  function fieldLabel(id) {
    var match = /^victims-(\d+)-(.+)$/.exec(id);
    if (match) {
      return victimName(Number(match[1]) + 1) + ": " + (labels.victim[match[2]] || match[2]);
    }
    return labels.incident[id] || id;
  }

  // A conflict: the two versions, field by field where they differ --------------------------

  function comparison(item) {
    var mine = outbox.requestFor(item).body;
    var theirs = item.current || {};
    var table = element("table", null, "outbox-comparison");
    var head = element("tr");
    [text("Field"), text("Yours"), text("Theirs")].forEach(function (label) {
      var cell = element("th", label);
      cell.scope = "col";
      head.appendChild(cell);
    });
    table.appendChild(element("thead")).appendChild(head);
    var body = table.appendChild(element("tbody"));
    Object.keys(declared.incident).forEach(function (name) {
      var a = shown(declared.incident[name], mine[name]);
      var b = shown(declared.incident[name], theirs[name]);
      if (name in mine && a !== b) {
        body.appendChild(row(labels.incident[name] || name, a, b));
      }
    });
    victimsCompared(mine.victims || [], theirs.victims || []).forEach(function (line) {
      body.appendChild(row(line[0], line[1], line[2]));
    });
    return table;
  }

  function row(label, mine, theirs) {
    var line = element("tr");
    var heading = element("th", label);
    heading.scope = "row";
    line.appendChild(heading);
    line.appendChild(element("td", mine));
    line.appendChild(element("td", theirs));
    return line;
  }

  function victimSummary(victim) {
    if (!victim) {
      return "—";
    }
    return ["category", "nationality", "outcome", "unit", "name"]
      .filter(function (name) { return victim[name]; })
      .map(function (name) { return shown(declared.victim[name], victim[name]); })
      .join(", ");
  }

  function victimsCompared(mine, theirs) {
    var lines = [];
    var seen = {};
    mine.forEach(function (victim, index) {
      var other = victim.id ? theirs.filter(function (v) { return v.id === victim.id; })[0] : null;
      if (other) {
        seen[other.id] = true;
      }
      var a = victimSummary(victim);
      var b = victimSummary(other);
      if (a !== b) {
        lines.push([victimName(index + 1), a, b]);
      }
    });
    theirs.forEach(function (victim) {
      if (!seen[victim.id]) {
        lines.push([victimName(lines.length + 1), "—", victimSummary(victim)]);
      }
    });
    return lines;
  }

  // Keeping mine: sent again over the version on capdb, as the form's "save again" does.
  async function keepMine(item) {
    await store.update(item.key, function (kept) {
      var current = kept.current || {};
      var versions = {};
      (current.victims || []).forEach(function (victim) { versions[victim.id] = victim.version; });
      kept.fields.version = String(current.version);
      Object.keys(kept.fields).forEach(function (name) {
        var match = /^(victims-\d+-)victim_id$/.exec(name);
        if (match && kept.fields[name]) {
          var id = Number(kept.fields[name]);
          var removedMeanwhile = !(id in versions);
          kept.fields[match[1] + "victim_version"] = removedMeanwhile ? "" : String(versions[id]);
          if (removedMeanwhile) {
            kept.fields[name] = "";
          }
        }
      });
      kept.state = "queued";
      kept.current = null;
      kept.attempted = false;
    });
    send();
  }

  // The page --------------------------------------------------------------------------------

  var rendering = Promise.resolve();

  function render() {
    rendering = rendering.then(draw, draw);
    return rendering;
  }

  async function draw() {
    var items = (await store.itemsOf(outbox.user)).sort(function (a, b) { return b.updated - a.updated; });
    var lists = {};
    page.querySelectorAll("[data-group]").forEach(function (section) {
      var list = section.querySelector(".outbox-items");
      list.replaceChildren();
      lists[section.dataset.group] = list;
    });
    items.forEach(function (item) {
      var list = lists[GROUPS[item.state]];
      if (list) {
        list.appendChild(itemEntry(item));
      }
    });
    page.querySelectorAll("[data-group]").forEach(function (section) {
      section.hidden = !section.querySelector(".outbox-item");
    });
    page.querySelector("[data-empty]").hidden = items.length > 0;
  }

  async function send() {
    progress.textContent = text("Sending");
    var result = await outbox.flush();
    var waiting = store.counts(await store.itemsOf(outbox.user)).waiting;
    if (result && result.offline) {
      progress.textContent = text("NoLink");
    } else if (result && result.signedOut) {
      progress.textContent = text("SignIn");
    } else {
      progress.textContent = waiting ? "" : text("SentAll");
    }
  }

  page.querySelector("[data-send-now]").addEventListener("click", send);
  page.querySelector("[data-clear-sent]").addEventListener("click", async function () {
    var items = await store.itemsOf(outbox.user);
    await Promise.all(items.filter(function (item) { return item.state === "sent"; })
      .map(function (item) { return store.remove(item.key); }));
  });
  store.listen(render);
  loadNames().then(render);
})();
