// The admin portal's only script: the browser itself signs in and out, so that it holds the session cookie.
window.stratusAdmin = {
  async signIn(userName, password) {
    try {
      const response = await fetch('/api/v1/auth/signin', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ userName, password }),
      });
      if (response.ok) return { ok: true, message: '' };
      const problem = await response.json().catch(() => ({}));
      return { ok: false, message: problem.detail || problem.title || `Sign-in failed (${response.status}).` };
    } catch {
      return { ok: false, message: 'Stratus could not be reached. Check your connection and try again.' };
    }
  },
  // Sends the chosen file straight from the browser to the API (no copy through the portal's server),
  // reporting progress to the page as it goes.
  upload(input, url, page) {
    const file = input.files && input.files[0];
    if (!file) return Promise.resolve({ status: 0, message: 'Choose a disk file first.' });
    return new Promise(resolve => {
      const request = new XMLHttpRequest();
      let last = 0;
      request.upload.onprogress = e => {
        const now = Date.now();
        if (now - last > 200 || e.loaded === e.total) { last = now; page.invokeMethodAsync('UploadProgress', e.loaded, e.total); }
      };
      request.onload = () => {
        let message = '';
        try { const problem = JSON.parse(request.responseText || '{}'); message = problem.detail || problem.title || ''; } catch { }
        resolve({ status: request.status, message });
      };
      request.onerror = () => resolve({ status: 0, message: 'The upload was interrupted. Check your connection and try again.' });
      request.open('PUT', url);
      request.setRequestHeader('Content-Type', 'application/octet-stream');
      request.send(file);
    });
  },
  fileName(input) {
    const file = input.files && input.files[0];
    return file ? { name: file.name, size: file.size } : null;
  },
  async signOut() {
    await fetch('/api/v1/auth/signout', { method: 'POST' }).catch(() => {});
  },
};
