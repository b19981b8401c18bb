import { createRouter, createWebHashHistory, type RouteRecordRaw, type Router } from 'vue-router';
import type { WorkspaceInfo } from '../../preload/api';
import type { IconName } from './components/AppIcon.vue';

export interface NavItem {
  name: string;
  label: string;
  icon: IconName;
  /** which workspace count the sidebar shows beside the item */
  count?: keyof WorkspaceInfo['counts'];
}

export const NAV_ITEMS: readonly NavItem[] = [
  { name: 'datasets', label: 'Datasets', icon: 'datasets', count: 'datasets' },
  { name: 'models', label: 'Models', icon: 'models', count: 'models' },
  { name: 'forget-sets', label: 'Forget sets', icon: 'forget', count: 'forgetSets' },
  { name: 'runs', label: 'Runs', icon: 'runs', count: 'runs' },
  { name: 'compare', label: 'Compare', icon: 'compare' },
  { name: 'reports', label: 'Reports', icon: 'reports', count: 'reports' },
  { name: 'settings', label: 'Settings', icon: 'settings' },
];

export const routes: RouteRecordRaw[] = [
  { path: '/', redirect: { name: 'datasets' } },
  { path: '/datasets', name: 'datasets', component: () => import('./views/DatasetsView.vue'), meta: { title: 'Datasets' } },
  { path: '/models', name: 'models', component: () => import('./views/ModelsView.vue'), meta: { title: 'Models' } },
  { path: '/forget-sets', name: 'forget-sets', component: () => import('./views/ForgetSetsView.vue'), meta: { title: 'Forget sets' } },
  { path: '/runs', name: 'runs', component: () => import('./views/RunsView.vue'), meta: { title: 'Runs' } },
  { path: '/compare', name: 'compare', component: () => import('./views/CompareView.vue'), meta: { title: 'Compare' } },
  { path: '/reports', name: 'reports', component: () => import('./views/ReportsView.vue'), meta: { title: 'Reports' } },
  { path: '/settings', name: 'settings', component: () => import('./views/SettingsView.vue'), meta: { title: 'Settings' } },
  { path: '/:pathMatch(.*)*', redirect: { name: 'datasets' } },
];

/** Hash history: works from file:// in the desktop app and from any path on the web server. */
export function createAppRouter(): Router {
  const router = createRouter({ history: createWebHashHistory(), routes });
  router.afterEach((to) => {
    const title = typeof to.meta.title === 'string' ? to.meta.title : null;
    document.title = title ? `${title} · Lethe` : 'Lethe';
  });
  return router;
}
