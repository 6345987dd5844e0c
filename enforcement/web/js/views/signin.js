// Sign-in. The demo lists its seeded judges and supervisors; in production the identity
// provider's token is pasted here (or handed over by the provider's redirect in the address
// fragment: /ui/signin#access_token=...).

import * as api from '../api.js';
import { h, replace } from '../dom.js';
import { label, t } from '../i18n.js';
import { showError, showNotice } from '../banner.js';
import * as session from '../session.js';

function nextPath(query, user) {
  const next = query.get('next');
  return next && next.startsWith('/ui/') && !next.startsWith('/ui/signin') ? next : session.homePath(user);
}

async function acceptToken(ctx, token) {
  session.signIn(token, null);
  try {
    const me = await api.get('/api/v1/workbench/me');
    session.signIn(token, me);
    ctx.navigate(nextPath(ctx.query, me), { replaceState: true });
  } catch (err) {
    session.signOut();
    throw err;
  }
}

function demoSection(ctx, users) {
  const byCourt = new Map();
  for (const u of users) {
    const key = u.court_name || u.court_code || '';
    if (!byCourt.has(key)) byCourt.set(key, []);
    byCourt.get(key).push(u);
  }
  const groups = [...byCourt.entries()].map(([court, list]) => h('div', { class: 'user-group' },
    h('h3', {}, court),
    h('ul', { class: 'user-list' }, list.map((u) => h('li', {},
      h('button', {
        type: 'button', class: 'user-card', 'data-login': u.login,
        onclick: async (event) => {
          const button = event.currentTarget;
          button.disabled = true;
          try {
            const s = await api.post('/api/v1/demo/session', { login: u.login }, { auth: false });
            session.signIn(s.token, s.user);
            ctx.navigate(nextPath(ctx.query, s.user), { replaceState: true });
          } catch (err) {
            button.disabled = false;
            showError(err);
          }
        },
      },
      h('span', { class: 'user-name' }, u.display_name),
      h('span', { class: 'user-role' }, label('role', u.role)),
      h('span', { class: 'user-login' }, u.login)))))));
  return h('section', { class: 'panel', 'aria-labelledby': 'demo-title' },
    h('h2', { id: 'demo-title' }, t('signin_demo_title')),
    h('p', { class: 'muted' }, t('signin_demo_text')),
    groups);
}

function tokenSection(ctx, demo) {
  const box = h('textarea', { id: 'token-input', rows: 4, spellcheck: 'false', autocomplete: 'off', required: true });
  const form = h('form', { class: 'token-form' },
    h('label', { for: 'token-input' }, t('signin_token_label')),
    box,
    h('p', { class: 'muted small' }, t('signin_token_help')),
    h('button', { type: 'submit', class: 'btn btn-primary' }, t('sign_in')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = box.value.trim().replace(/^Bearer\s+/i, '');
    if (!value) return;
    try {
      await acceptToken(ctx, value);
    } catch (err) {
      showError(err);
    }
  });
  return h('section', { class: ['panel', demo ? 'panel-secondary' : ''], 'aria-labelledby': 'token-title' },
    h('h2', { id: 'token-title' }, t('signin_token_title')), form);
}

export async function render(ctx) {
  const { main, query } = ctx;
  // The identity provider may hand the token over in the address fragment.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('access_token')) {
    const token = fragment.get('access_token');
    history.replaceState(null, '', location.pathname + location.search);
    await acceptToken(ctx, token);
    return;
  }
  if (query.get('expired')) showNotice(t('signin_expired'));
  let users = null;
  try {
    users = (await api.get('/api/v1/demo/users', { auth: false })).users;
  } catch (err) {
    if (!(err instanceof api.ApiError && err.code === 'demo_sign_in_disabled')) showError(err);
  }
  const intro = h('div', { class: 'signin-intro' },
    h('h1', {}, t('signin_title')),
    h('p', {}, t('signin_intro')));
  replace(main, h('div', { class: 'signin' }, intro,
    users ? demoSection(ctx, users) : null,
    tokenSection(ctx, Boolean(users))));
}
