// Files: the bucket through the /r2 file API (docs/storage.md): browse by prefix with "/" as the
// folder separator, upload with a progress bar, download, delete after a confirmation.
import {credential, errorOf, filePath, getJson, request} from './api.js';
import {bytes, confirmAction, el, status, time} from './dom.js';

const PAGE = 200;

export function show(container) {
  const prefix = el('input', {type: 'search', id: 'file-prefix', placeholder: 'Prefix, e.g. reports/', spellcheck: 'false'});
  const up = el('button', {type: 'button', class: 'quiet', id: 'files-up'}, '↑ Up');
  const rows = el('tbody', {id: 'file-rows'});
  const more = el('button', {type: 'button', class: 'quiet', id: 'files-more', disabled: true}, 'Load more');
  const result = el('p', {class: 'status', id: 'files-result', hidden: true});
  const chooser = el('input', {type: 'file', id: 'upload-file'});
  const uploadKey = el('input', {type: 'text', id: 'upload-key', placeholder: 'key (defaults to prefix + file name)', spellcheck: 'false'});
  const upload = el('button', {type: 'button', id: 'upload-button'}, 'Upload');
  const progress = el('progress', {id: 'upload-progress', max: 100, value: 0, hidden: true});
  const uploadResult = el('p', {class: 'status', id: 'upload-result', hidden: true});
  container.append(
    el('h1', {}, 'Files'),
    el('section', {class: 'panel'}, el('h2', {}, 'Upload'),
      el('div', {class: 'toolbar'}, chooser, uploadKey, upload), progress, uploadResult),
    el('div', {class: 'toolbar'}, el('label', {for: 'file-prefix'}, 'Prefix'), prefix, up),
    result,
    el('table', {class: 'grid'},
      el('thead', {}, el('tr', {}, el('th', {}, 'Key'), el('th', {class: 'num'}, 'Size'), el('th', {}, 'Type'),
        el('th', {}, 'ETag'), el('th', {}, 'Uploaded'), el('th', {}, ''))),
      rows),
    el('div', {class: 'pager'}, more));

  let cursor = null;

  async function list(append) {
    const query = new URLSearchParams({prefix: prefix.value, delimiter: '/', limit: PAGE});
    if (append && cursor) query.set('cursor', cursor);
    try {
      const page = await getJson(`/r2/?${query}`);
      if (!append) rows.replaceChildren();
      for (const folder of page.delimitedPrefixes ?? []) rows.append(folderRow(folder));
      for (const object of page.objects) rows.append(fileRow(object));
      if (rows.children.length === 0) {
        rows.append(el('tr', {}, el('td', {colspan: 6, class: 'empty'},
          prefix.value ? `Nothing under "${prefix.value}".` : 'The bucket holds no files yet.')));
      }
      cursor = page.truncated ? page.cursor : null;
      up.disabled = !prefix.value;
      more.disabled = cursor === null;
      status(result, '');
    } catch (error) {
      status(result, error.status === 403
        ? 'This credential may not list files (its token has no files.read scope).'
        : `Cannot list files: ${error.message}`, true);
    }
  }

  function folderRow(folder) {
    const open = el('a', {href: '#/files', class: 'folder'}, folder);
    open.addEventListener('click', event => {
      event.preventDefault();
      prefix.value = folder;
      list(false);
    });
    return el('tr', {}, el('td', {colspan: 6}, open));
  }

  function fileRow(object) {
    const download = el('button', {type: 'button', class: 'quiet small', 'data-action': 'download'}, 'Download');
    const remove = el('button', {type: 'button', class: 'danger small', 'data-action': 'delete'}, 'Delete…');
    download.addEventListener('click', () => save(object.key).catch(e => status(result, `Download failed: ${e.message}`, true)));
    remove.addEventListener('click', async () => {
      const confirmed = await confirmAction('Delete this file?',
        `This deletes "${object.key}" (${bytes(object.size)}) from the bucket. This cannot be undone.`);
      if (!confirmed) return;
      try {
        await request('DELETE', filePath(object.key));
        status(result, `Deleted ${object.key}.`);
        list(false);
      } catch (error) {
        status(result, `Not deleted: ${error.message}`, true);
      }
    });
    return el('tr', {'data-key': object.key},
      el('td', {class: 'key'}, object.key),
      el('td', {class: 'num'}, bytes(object.size)),
      el('td', {}, object.httpMetadata?.contentType ?? '–'),
      el('td', {class: 'mono'}, object.etag),
      // The bucket keeps upload times to the second.
      el('td', {class: 'nowrap'}, time(Date.parse(object.uploaded)).slice(0, 19)),
      el('td', {class: 'nowrap'}, download, ' ', remove));
  }

  upload.addEventListener('click', () => {
    const file = chooser.files[0];
    if (!file) {
      status(uploadResult, 'Choose a file first.', true);
      return;
    }
    const key = uploadKey.value.trim() || prefix.value + file.name;
    send(key, file, progress, uploadResult).then(ok => {
      if (ok) list(false);
    });
  });
  let typing = null;
  prefix.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => list(false), 250);
  });
  more.addEventListener('click', () => list(true));
  up.addEventListener('click', () => {
    // "a/b/" goes to "a/", "a/b" (a partial name) to "a/".
    const trimmed = prefix.value.endsWith('/') ? prefix.value.slice(0, -1) : prefix.value;
    prefix.value = trimmed.includes('/') ? trimmed.slice(0, trimmed.lastIndexOf('/') + 1) : '';
    list(false);
  });
  list(false);
  return () => clearTimeout(typing);
}

/** PUT with XMLHttpRequest, the one browser API that reports upload progress. */
function send(key, file, progress, result) {
  return new Promise(resolve => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', filePath(key));
    xhr.setRequestHeader('Authorization', `Bearer ${credential()}`);
    if (file.type) xhr.setRequestHeader('Content-Type', file.type);
    progress.hidden = false;
    progress.value = 0;
    xhr.upload.addEventListener('progress', event => {
      if (event.lengthComputable) progress.value = Math.round(100 * event.loaded / event.total);
    });
    xhr.addEventListener('load', async () => {
      progress.value = 100;
      if (xhr.status >= 200 && xhr.status < 300) {
        status(result, `Uploaded ${key} (${bytes(file.size)}).`);
        resolve(true);
      } else {
        const error = await errorOf(new Response(xhr.responseText, {status: xhr.status}));
        status(result, `Upload failed: ${error.message}`, true);
        resolve(false);
      }
    });
    xhr.addEventListener('error', () => {
      status(result, 'Upload failed: the connection broke.', true);
      resolve(false);
    });
    status(result, `Uploading ${key}…`);
    xhr.send(file);
  });
}

/** Downloads through fetch (so the credential goes in a header, not the URL) and saves the blob. */
async function save(key) {
  const response = await request('GET', filePath(key));
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = el('a', {href: url, download: key.split('/').pop()});
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
