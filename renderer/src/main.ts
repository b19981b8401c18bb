import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { createAppRouter } from './router';
import { captureLaunchToken } from './api/client';
import { applyTheme, rememberedTheme, resolveTheme } from './composables/use-theme';
import './styles/theme.css';
import './styles/base.css';

// Paint the remembered theme before the first frame; settings from the backend take over once loaded.
applyTheme(resolveTheme(rememberedTheme(), matchMedia('(prefers-color-scheme: dark)').matches));

// Before the router reads the address: the web build's token leaves it (kept in memory only).
captureLaunchToken();

const app = createApp(App);
app.use(createPinia());
app.use(createAppRouter());
app.config.errorHandler = (err) => {
  console.error('Unhandled renderer error', err);
};
app.mount('#app');
