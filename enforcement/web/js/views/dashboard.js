// Supervisor dashboard (placeholder until the indicators API lands).
import * as api from '../api.js';
import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { showError } from '../banner.js';

export async function render(ctx) {
  const { main } = ctx;
  replace(main, h('section', { class: 'page' }, h('h1', {}, t('dashboard_title'))));
  try {
    await api.get('/api/v1/indicators');
  } catch (err) {
    if (err instanceof api.ApiError && err.code === 'not_found') main.append(h('p', { class: 'muted' }, t('dashboard_unavailable')));
    else showError(err);
  }
}
