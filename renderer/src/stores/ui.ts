import { defineStore } from 'pinia';
import { ref } from 'vue';

/** Layout state shared across pages (e.g. Settings opens the jobs panel after starting a job). */
export const useUiStore = defineStore('ui', () => {
  const jobsPanelOpen = ref(false);

  function openJobsPanel(): void {
    jobsPanelOpen.value = true;
  }

  function toggleJobsPanel(): void {
    jobsPanelOpen.value = !jobsPanelOpen.value;
  }

  return { jobsPanelOpen, openJobsPanel, toggleJobsPanel };
});
