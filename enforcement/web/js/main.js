// The workbench's entry point: the header, the language toggle, sign-in state and a small
// router that draws one view per address (/ui/cases, /ui/cases/42, /ui/dashboard, ...)
// without reloading the page.

import * as api from './api.js';
import { h, replace } from './dom.js';
import { applyDocumentLang, lang, onLangChange, setLang, t, label } from './i18n.js';
import { clearBanners, showError } from './banner.js';
import * as session from './session.js';
import * as signinView from './views/signin.js';
import * as casesView from './views/cases.js';
import * as caseView from './views/case.js';
import * as dashboardView from './views/dashboard.js';
import * as agenciesView from './views/agencies.js';
import * as reportView from './views/report.js';
import * as measuresView from './views/measures.js';

const ROUTES = [
  { pattern: /^\/(?:ui\/?)?$/, view: null },
  { pattern: /^\/ui\/signin\/?$/, view: signinView, public: true },
  { pattern: /^\/ui\/cases\/?$/, view: casesView },
  { pattern: /^\/ui\/cases\/(\d+)\/?$/, view: caseView, names: ['caseId'] },
  { pattern: /^\/ui\/dashboard\/?$/, view: dashboardView },
  { pattern: /^\/ui\/agencies\/?$/, view: agenciesView },
  { pattern: /^\/ui\/measures\/?$/, view: measuresView },
  { pattern: /^\/ui\/searches\/([0-9a-f-]{36})\/report\/?$/i, view: reportView, names: ['searchId'] },
];

let disposeCurrent = null;
let renderSeq = 0;

export function navigate(path, { replaceState = false } = {}) {
  if (replaceState) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

function match(pathname) {
  for (const route of ROUTES) {
    const m = route.pattern.exec(pathname);
    if (m) {
      const params = {};
      (route.names || []).forEach((name, i) => { params[name] = m[i + 1]; });
      return { route, params };
    }
  }
  return null;
}

function drawHeader() {
  const user = session.user();
  const nav = document.getElementById('mainnav');
  const items = [];
  if (user) {
    if (session.can('list_cases', user)) items.push(h('a', { href: '/ui/cases', 'data-nav': true }, t('nav_cases')));
    if (session.can('read_indicators', user)) {
      items.push(h('a', { href: '/ui/dashboard', 'data-nav': true }, t('nav_dashboard')));
    }
    if (session.can('read_measures', user)) {
      items.push(h('a', { href: '/ui/measures', 'data-nav': true }, t('nav_measures')));
    }
    if (session.can('read_agencies', user)) {
      items.push(h('a', { href: '/ui/agencies', 'data-nav': true }, t('nav_agencies')));
    }
  }
  replace(nav, items);
  for (const a of nav.querySelectorAll('a')) {
    if (location.pathname.startsWith(a.getAttribute('href'))) a.setAttribute('aria-current', 'page');
  }
  const who = document.getElementById('whoami');
  replace(who, user ? [
    h('strong', {}, user.display_name),
    h('span', { class: 'muted' }, ` · ${label('role', user.role)}${user.court_name ? ` · ${user.court_name}` : ''}`),
  ] : []);
  document.getElementById('sign-out').hidden = !user;
  const toggle = document.getElementById('lang-toggle');
  toggle.textContent = lang() === 'zh' ? 'English' : '中文';
  toggle.lang = lang() === 'zh' ? 'en' : 'zh-CN';
  toggle.setAttribute('aria-label', lang() === 'zh' ? 'Switch to English' : '切换到中文');
}

export async function render() {
  const seq = ++renderSeq;
  if (disposeCurrent) {
    try { disposeCurrent(); } catch { /* a view's cleanup must not stop the next view */ }
    disposeCurrent = null;
  }
  clearBanners();
  applyDocumentLang();
  drawHeader();
  const main = document.getElementById('main');
  const found = match(location.pathname);
  const user = session.user();
  if (!found) {
    replace(main, h('section', { class: 'panel' }, h('h1', {}, t('not_found_title')),
      h('p', {}, t('not_found_text')), h('a', { href: session.homePath(), 'data-nav': true }, t('go_home'))));
    return;
  }
  if (!found.route.view) {
    navigate(user ? session.homePath(user) : '/ui/signin', { replaceState: true });
    return;
  }
  if (!found.route.public && !session.token()) {
    const back = location.pathname + location.search;
    navigate(`/ui/signin?next=${encodeURIComponent(back)}`, { replaceState: true });
    return;
  }
  replace(main, h('p', { class: 'loading', role: 'status' }, t('loading')));
  const ctx = {
    main,
    params: found.params,
    query: new URLSearchParams(location.search),
    user,
    navigate,
    isCurrent: () => seq === renderSeq,
  };
  try {
    const dispose = await found.route.view.render(ctx);
    if (seq === renderSeq) disposeCurrent = typeof dispose === 'function' ? dispose : null;
    else if (typeof dispose === 'function') dispose();
  } catch (err) {
    if (seq !== renderSeq) return;
    replace(main, h('section', { class: 'panel' }, h('h1', {}, t('page_failed'))));
    showError(err);
  }
}

function onClick(event) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const a = event.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/ui')) return;
  // A link within the page (the skip link, #main) is the browser's to follow: focus moves there.
  if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
  document.getElementById('main').focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function start() {
  document.addEventListener('click', onClick);
  window.addEventListener('popstate', render);
  document.getElementById('lang-toggle').addEventListener('click', () => setLang(lang() === 'zh' ? 'en' : 'zh'));
  document.getElementById('sign-out').addEventListener('click', () => {
    session.signOut();
    navigate('/ui/signin');
  });
  onLangChange(() => render());
  api.onUnauthenticated((err) => {
    session.signOut();
    const back = location.pathname + location.search;
    history.replaceState(null, '', `/ui/signin?next=${encodeURIComponent(back)}&expired=${encodeURIComponent(err.code)}`);
    render();
  });
  render();
}

start();
