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
      return { ok: false, message: problem.detail || problem.title || `Sign-in failed (${response.status}).`, errors: problem.errors || null };
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

// Enter in a text field. A Fluent field hands its value to the page on 'change', which the browser raises after the
// field has already clicked its form's submit button: the page would send the form with the value from before the
// typing (or none). So Enter first commits the value, then sends the form: through its submit button when it has one
// (the field's own doing), else by submitting the form (dialogs keep their buttons outside the form).
const textFields = new Set(['FLUENT-TEXT-FIELD', 'FLUENT-NUMBER-FIELD', 'FLUENT-SEARCH']);
document.addEventListener('keypress', event => {
  const field = event.target;
  if (event.key !== 'Enter' || event.isComposing || !field || !textFields.has(field.tagName)) return;
  field.dispatchEvent(new Event('change', { bubbles: true }));
  const form = field.form || field.closest('form');
  if (form && !form.querySelector('[type=submit]')) {
    event.preventDefault();
    form.requestSubmit();
  }
}, true);
