// Keeps the collection page's job list current: polls /api/v1/jobs/{id}/ for each unfinished job.
(function () {
  "use strict";
  var FINISHED = ["succeeded", "failed", "cancelled"];
  function poll(row) {
    fetch("/api/v1/jobs/" + row.dataset.jobId + "/", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (!job) return;
        var percent = Math.round(job.progress * 100);
        row.querySelector("[data-field=status]").textContent = job.status;
        row.querySelector("[data-field=message]").textContent = job.failure_reason || job.message;
        row.querySelector("progress").value = percent;
        row.querySelector("[data-field=percent]").textContent = percent + "%";
        row.dataset.status = job.status;
        if (FINISHED.indexOf(job.status) < 0) setTimeout(function () { poll(row); }, 2000);
      });
  }
  document.querySelectorAll("[data-job-id]").forEach(function (row) {
    if (FINISHED.indexOf(row.dataset.status) < 0) poll(row);
  });
})();
