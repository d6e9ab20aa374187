// The console's shell: sign-in, sign-out and the page router (#/overview, #/subjects,
// #/subject/NAME, #/consumers, #/files). Each page module exports show(container) returning a stop function
// that cancels its timers when the operator leaves the page.
import {credential, forget, getJson, remember, whenUnauthorized} from './api.js';
import * as overview from './overview.js';
import * as subjects from './subjects.js';
import * as subject from './subject.js';
import * as consumers from './consumers.js';
import * as files from './files.js';

const page = document.getElementById('page');
const signIn = document.getElementById('sign-in');
let stopPage = () => {};

function showSignIn(message) {
  stopPage();
  stopPage = () => {};
  page.hidden = true;
  page.replaceChildren();
  document.getElementById('nav').hidden = true;
  document.getElementById('who').hidden = true;
  signIn.hidden = false;
  const error = document.getElementById('sign-in-error');
  error.textContent = message ?? '';
  error.hidden = !message;
  document.getElementById('credential').focus();
}

function showConsole() {
  signIn.hidden = true;
  page.hidden = false;
  document.getElementById('nav').hidden = false;
  document.getElementById('who').hidden = false;
  route();
}

function route() {
  if (!credential()) {
    showSignIn();
    return;
  }
  stopPage();
  page.replaceChildren();
  const hash = location.hash || '#/overview';
  let name = 'overview';
  if (hash.startsWith('#/subject/')) {
    name = 'subjects';
    stopPage = subject.show(page, decodeURIComponent(hash.slice('#/subject/'.length)));
  } else if (hash.startsWith('#/subjects')) {
    name = 'subjects';
    stopPage = subjects.show(page);
  } else if (hash.startsWith('#/consumers')) {
    name = 'consumers';
    stopPage = consumers.show(page);
  } else if (hash.startsWith('#/files')) {
    name = 'files';
    stopPage = files.show(page);
  } else {
    stopPage = overview.show(page);
  }
  for (const link of document.querySelectorAll('#nav a')) {
    link.classList.toggle('active', link.dataset.page === name);
  }
}

async function submitSignIn(event) {
  event.preventDefault();
  const input = document.getElementById('credential');
  const button = document.getElementById('sign-in-button');
  const value = input.value.trim();
  if (!value) return;
  button.disabled = true;
  try {
    // The overview needs the admin permission, so it tells a wrong credential (401) from one
    // without the admin scope (403) before anything is kept.
    await getJson('/admin/overview', {token: value});
    remember(value);
    input.value = '';
    document.getElementById('who-label').textContent = value.split('.').length === 3 ? 'token' : 'API key';
    showConsole();
  } catch (error) {
    if (error.status === 401) {
      showSignIn(`Wrong API key or token: the broker refused it (${error.message}).`);
    } else if (error.status === 403) {
      showSignIn('This token is valid but has no admin scope ("admin": true in its dstream claim).');
    } else {
      showSignIn(`Cannot sign in: ${error.message}`);
    }
  } finally {
    button.disabled = false;
  }
}

function signOut() {
  forget();
  location.hash = '';
  showSignIn('Signed out.');
}

document.getElementById('sign-in-form').addEventListener('submit', submitSignIn);
document.getElementById('sign-out').addEventListener('click', signOut);
window.addEventListener('hashchange', () => {
  if (credential()) route();
});
whenUnauthorized(error => {
  forget();
  showSignIn(`Signed out: the broker no longer accepts the credential (${error.message}).`);
});

if (credential()) {
  document.getElementById('who-label').textContent = credential().split('.').length === 3 ? 'token' : 'API key';
  showConsole();
} else {
  showSignIn();
}
