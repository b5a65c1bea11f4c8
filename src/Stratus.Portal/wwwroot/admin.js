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
  async signOut() {
    await fetch('/api/v1/auth/signout', { method: 'POST' }).catch(() => {});
  },
};
