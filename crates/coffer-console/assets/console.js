// Coffer console: the few things plain HTML cannot do. Everything works without it except
// the copy buttons (and, later, drag-and-drop uploads).
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(() => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});

// Uploads on a bucket's page: files chosen with "Add files" / "Add folder" or dropped on the
// zone are PUT one by one to the console, which streams each to S3's PutObject. Each file
// has a progress bar and a Cancel button.
(() => {
  const zone = document.getElementById("drop-zone");
  if (!zone) return;
  const list = document.getElementById("uploads");
  const { bucket, prefix, csrf } = zone.dataset;
  let running = 0;

  const upload = (file, path) => {
    const item = document.createElement("li");
    const label = document.createElement("span");
    label.textContent = path;
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "small";
    cancel.textContent = "Cancel";
    item.append(label, bar, cancel);
    list.append(item);
    const xhr = new XMLHttpRequest();
    const key = encodeURIComponent(prefix + path);
    xhr.open("PUT", `/s3/buckets/${encodeURIComponent(bucket)}/upload?key=${key}`);
    xhr.setRequestHeader("x-csrf-token", csrf);
    if (file.type) xhr.setRequestHeader("content-type", file.type);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = (100 * e.loaded) / e.total; };
    const done = (text, ok) => {
      cancel.remove();
      const status = document.createElement("span");
      status.className = ok ? "valid" : "error";
      status.textContent = text;
      item.append(status);
      running -= 1;
      if (running === 0 && ok) setTimeout(() => location.reload(), 400);
    };
    xhr.onload = () => (xhr.status < 300 ? done("Done", true) : done(`Failed (HTTP ${xhr.status})`, false));
    xhr.onerror = () => done("Failed", false);
    xhr.onabort = () => done("Canceled", false);
    cancel.onclick = () => xhr.abort();
    running += 1;
    xhr.send(file);
  };

  const files = (input) => {
    for (const file of input.files) upload(file, file.webkitRelativePath || file.name);
    input.value = "";
  };
  document.getElementById("add-files").addEventListener("change", (e) => files(e.target));
  document.getElementById("add-folder").addEventListener("change", (e) => files(e.target));

  // Dropped folders are walked through the entries API.
  const walk = (entry, path) => {
    if (entry.isFile) {
      entry.file((file) => upload(file, path + file.name));
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      const read = () => reader.readEntries((entries) => {
        if (entries.length === 0) return;
        for (const child of entries) walk(child, `${path}${entry.name}/`);
        read();
      });
      read();
    }
  };
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    const items = [...(e.dataTransfer.items || [])];
    const entries = items.map((item) => item.webkitGetAsEntry && item.webkitGetAsEntry()).filter(Boolean);
    if (entries.length > 0) {
      for (const entry of entries) walk(entry, "");
    } else {
      for (const file of e.dataTransfer.files) upload(file, file.name);
    }
  });
})();
