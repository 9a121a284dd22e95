// The job page's progress bar: asks the server how far the job is, every second, and
// reloads the page once the job has ended (to show its result or its error).
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || box.dataset.finished === "true") {
    return;
  }
  var url = box.dataset.progressUrl;
  var bar = document.getElementById("job-progress");
  function show(state) {
    document.getElementById("job-status").textContent = state.status_label;
    document.getElementById("job-message").textContent = state.message;
    document.getElementById("job-count").textContent =
      state.total ? state.done + " / " + state.total : "";
    if (state.total) {
      bar.value = Math.min(100, Math.floor((state.done * 100) / state.total));
    }
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (state) {
        if (state === null) {
          return;
        }
        show(state);
        if (state.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }
  window.setTimeout(poll, 1000);
})();
