// The knowledge base's upload form, one file at a time: each file is posted on its own (the
// same form, the same route) and its row (stored, or why not) shows as soon as it is done.
// Without JavaScript the form posts every file at once and the page lists them when done.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.fetch || !window.FormData) {
    return;
  }
  var input = document.getElementById("upload-files");
  var list = document.getElementById("upload-results");
  var summary = document.getElementById("upload-summary");
  var button = form.querySelector("button[type=submit]");

  function row(text, state) {
    var item = document.createElement("li");
    item.className = "upload-" + state;
    item.textContent = text;
    list.appendChild(item);
    return item;
  }

  function failure(status) {
    if (status === 413) {
      return "too large for one request (the server's body limit)";
    }
    if (status === 403) {
      return "refused: sign in again and reload this page";
    }
    return "the server answered " + status;
  }

  async function send(file) {
    var body = new FormData();
    body.append("csrf_token", form.elements.csrf_token.value);
    body.append("metadata", form.elements.metadata.value);
    body.append("files", file, file.name);
    var pending = row(file.name + ": uploading…", "pending");
    try {
      var answer = await fetch(form.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "x-alex-rows": "1" },
      });
      var type = answer.headers.get("content-type") || "";
      // 200: the file's row, stored or why not. Anything else is not a row.
      if (answer.status === 200 && type.indexOf("text/html") === 0) {
        var holder = document.createElement("ul");
        holder.innerHTML = await answer.text(); // the server's escaped rows
        var rows = Array.from(holder.children);
        var stored = rows.length > 0 && !holder.querySelector(".upload-failed");
        pending.replaceWith.apply(pending, rows);
        return stored;
      }
      pending.textContent = file.name + ": " + failure(answer.status);
    } catch (error) {
      pending.textContent = file.name + ": not sent (" + error.message + ")";
    }
    pending.className = "upload-failed";
    return false;
  }

  form.addEventListener("submit", async function (event) {
    var files = Array.from(input.files || []);
    if (!files.length) {
      return; // the browser's own "required" message
    }
    event.preventDefault();
    button.disabled = true;
    list.replaceChildren();
    var stored = 0;
    for (var index = 0; index < files.length; index += 1) {
      summary.textContent = "Ingesting " + (index + 1) + " of " + files.length + "…";
      if (await send(files[index])) {
        stored += 1;
      }
    }
    summary.textContent = stored + " of " + files.length + " file" +
      (files.length === 1 ? "" : "s") + " ingested.";
    button.disabled = false;
    form.reset();
  });
})();
