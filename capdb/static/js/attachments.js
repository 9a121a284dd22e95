// The upload form of a record's documents: files dropped on it or chosen are sent one by
// one, each with its progress bar and its answer (attached, or the reason it was refused).
// Without this script the form sends every file in one request.
(function () {
  "use strict";
  var form = document.getElementById("attachment-upload");
  if (!form || !window.FormData || !window.XMLHttpRequest) {
    return;
  }
  var input = document.getElementById("attachment-file");
  var zone = form.querySelector(".drop-zone");
  var queue = document.getElementById("attachment-queue");
  var attached = 0;

  function row(file) {
    var item = document.createElement("li");
    var name = document.createElement("span");
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    var state = document.createElement("span");
    state.textContent = form.dataset.sending;
    item.appendChild(name);
    item.appendChild(bar);
    item.appendChild(state);
    queue.appendChild(item);
    return { item: item, bar: bar, state: state };
  }

  function reason(request) {
    try {
      var body = JSON.parse(request.responseText);
      if (body && body.errors) {
        return Object.keys(body.errors).map(function (key) {
          return body.errors[key];
        }).join(" ");
      }
    } catch (ignored) {
      // Not JSON: an error page.
    }
    return form.dataset.broken;
  }

  function send(files, index) {
    if (index >= files.length) {
      if (attached > 0) {
        window.location.reload();
      }
      return;
    }
    var file = files[index];
    var shown = row(file);
    var data = new FormData(form);
    data.delete("file");
    data.append("file", file, file.name);
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        shown.bar.value = Math.floor((event.loaded * 100) / event.total);
      }
    });
    request.addEventListener("load", function () {
      if (request.status === 201) {
        attached += 1;
        shown.bar.value = 100;
        shown.state.textContent = form.dataset.done;
      } else {
        shown.state.textContent = form.dataset.failed + ": " + reason(request);
        shown.item.classList.add("refused");
      }
      send(files, index + 1);
    });
    request.addEventListener("error", function () {
      shown.state.textContent = form.dataset.broken;
      shown.item.classList.add("refused");
      send(files, index + 1);
    });
    request.send(data);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!input.files.length) {
      input.focus();
      return;
    }
    send(Array.prototype.slice.call(input.files), 0);
  });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("dragging");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () {
      zone.classList.remove("dragging");
    });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) {
      send(Array.prototype.slice.call(event.dataTransfer.files), 0);
    }
  });
})();
