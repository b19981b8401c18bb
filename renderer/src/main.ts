import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { createAppRouter } from './router';
import { applyTheme, rememberedTheme, resolveTheme } from './composables/use-theme';
import './styles/theme.css';
import './styles/base.css';

// Paint the remembered theme before the first frame; settings from the backend take over once loaded.
applyTheme(resolveTheme(rememberedTheme(), matchMedia('(prefers-color-scheme: dark)').matches));

const app = createApp(App);
app.use(createPinia());
app.use(createAppRouter());
app.config.errorHandler = (err) => {
  console.error('Unhandled renderer error', err);
};
app.mount('#app');
