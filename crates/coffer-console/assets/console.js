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
// zone are sent one by one to the console, which streams each to S3: in one PutObject up to
// 64 MiB, in 16 MiB parts of a multipart upload beyond. Each file has a progress bar and a
// Cancel button. Without this script the same inputs post the form, file by file to S3.
(() => {
  const zone = document.getElementById("drop-zone");
  if (!zone) return;
  document.body.classList.add("js");
  const list = document.getElementById("uploads");
  const { bucket, prefix, csrf } = zone.dataset;
  const base = `/s3/buckets/${encodeURIComponent(bucket)}`;
  const SINGLE_LIMIT = 64 * 1024 * 1024;
  const PART = 16 * 1024 * 1024;
  let running = 0;

  // The tags and encryption chosen for new objects, as S3's headers.
  const settings = () => {
    const headers = {};
    const value = (id) => (document.getElementById(id) || { value: "" }).value.trim();
    if (value("upload-tags")) headers["x-amz-tagging"] = value("upload-tags");
    if (value("upload-encryption")) headers["x-amz-server-side-encryption"] = value("upload-encryption");
    if (value("upload-kms-key")) headers["x-amz-server-side-encryption-aws-kms-key-id"] = value("upload-kms-key");
    return headers;
  };

  // One PUT with upload progress; resolves with the response text.
  const put = (url, blob, onProgress, track, headers = {}) => new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    track(xhr);
    xhr.open("PUT", url);
    xhr.setRequestHeader("x-csrf-token", csrf);
    if (blob.type) xhr.setRequestHeader("content-type", blob.type);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded); };
    // A failure's body is the console's reason in words (plain text).
    xhr.onload = () => (xhr.status < 300 ? resolve(xhr.responseText) : reject(new Error(xhr.responseText || `HTTP ${xhr.status}`)));
    xhr.onerror = () => reject(new Error("network error"));
    xhr.onabort = () => reject(new Error("canceled"));
    xhr.send(blob);
  });

  const json = async (url, options) => {
    const response = await fetch(url, { ...options, headers: { "x-csrf-token": csrf, ...(options.headers || {}) } });
    if (!response.ok) throw new Error((await response.text()) || `HTTP ${response.status}`);
    return response.status === 204 ? null : response.json().catch(() => null);
  };

  const upload = async (file, path) => {
    const item = document.createElement("li");
    const label = document.createElement("span");
    label.textContent = path;
    const bar = document.createElement("progress");
    bar.max = file.size || 1;
    bar.value = 0;
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "small";
    cancel.textContent = "Cancel";
    item.append(label, bar, cancel);
    list.append(item);
    let current = null;
    let canceled = false;
    let uploadId = null;
    const key = encodeURIComponent(prefix + path);
    cancel.onclick = () => { canceled = true; if (current) current.abort(); };
    running += 1;
    let outcome;
    try {
      if (file.size <= SINGLE_LIMIT) {
        await put(`${base}/upload?key=${key}`, file, (n) => { bar.value = n; }, (x) => { current = x; }, settings());
      } else {
        const started = await json(`${base}/multipart?key=${key}`, {
          method: "POST",
          headers: { ...settings(), "content-type": file.type || "application/octet-stream" },
        });
        uploadId = started.uploadId;
        const parts = [];
        for (let number = 1, offset = 0; offset < file.size; number += 1, offset += PART) {
          if (canceled) throw new Error("canceled");
          const blob = file.slice(offset, offset + PART);
          const url = `${base}/multipart?key=${key}&upload=${encodeURIComponent(uploadId)}&part=${number}`;
          const answer = await put(url, blob, (n) => { bar.value = offset + n; }, (x) => { current = x; });
          parts.push({ number, etag: JSON.parse(answer).etag });
        }
        await json(`${base}/multipart/complete?key=${key}&upload=${encodeURIComponent(uploadId)}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ parts }),
        });
      }
      bar.value = bar.max;
      outcome = ["Done", true];
    } catch (error) {
      if (uploadId) {
        json(`${base}/multipart?key=${key}&upload=${encodeURIComponent(uploadId)}`, { method: "DELETE" }).catch(() => {});
      }
      outcome = [canceled ? "Canceled" : `Failed: ${error.message}`, false];
    }
    cancel.remove();
    const status = document.createElement("span");
    status.className = outcome[1] ? "valid" : "error";
    status.textContent = outcome[0];
    item.append(status);
    running -= 1;
    if (running === 0 && outcome[1]) setTimeout(() => location.reload(), 400);
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

// Pickers: the list shows the rows whose name or description holds the filter's words and,
// where there is a type filter, of the chosen type.
const filterPicker = (event) => {
  const picker = event.target.closest("[data-picker]");
  if (!picker || !event.target.matches("[data-picker-filter], [data-picker-kind]")) return;
  const words = picker.querySelector("[data-picker-filter]").value.toLowerCase().split(/\s+/).filter(Boolean);
  const kindInput = picker.querySelector("[data-picker-kind]");
  const kind = kindInput ? kindInput.value : "";
  let shown = 0;
  for (const row of picker.querySelectorAll("tr[data-text]")) {
    const match = words.every((w) => row.dataset.text.includes(w)) && (!kind || row.dataset.kind === kind);
    row.hidden = !match;
    if (match) shown += 1;
  }
  picker.querySelector("[data-picker-none]").hidden = shown > 0;
};
document.addEventListener("input", filterPicker);
document.addEventListener("change", filterPicker);
// Enter in a picker's filter filters; it must not send the form with rows the filter hides.
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.target.matches("[data-picker-filter]")) event.preventDefault();
});
