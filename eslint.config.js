// ESLint flat config for the whole repository: TypeScript (typescript-eslint), Vue single-file
// components (eslint-plugin-vue), plus the project's architectural rules:
//  - only the Electron glue (main/electron/**, main/index.ts, preload/index.ts) may import 'electron',
//    so the engine, backend, server and CLI stay runnable and testable under plain Node;
//  - no synchronous IPC (sendSync blocks the renderer and the main process);
//  - no v-html: user-supplied strings (file names, node names, CSV headers) are rendered as text.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import pluginVue from 'eslint-plugin-vue';
import globals from 'globals';

const ELECTRON_GLUE = ['main/electron/**', 'main/index.ts', 'preload/index.ts'];

const electronImportMessage =
  "Only Electron glue (main/electron/**, main/index.ts, preload/index.ts) may import 'electron'; engine, backend, server, CLI and renderer code must run under plain Node or in the browser.";

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'out/**',
      'dist/**',
      'test-results/**',
      '.lethe-test/**',
      'coverage/**',
      '**/*.min.js',
      'resources/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...pluginVue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: {
      parserOptions: { parser: tseslint.parser, ecmaVersion: 'latest', sourceType: 'module', extraFileExtensions: ['.vue'] },
    },
  },
  {
    languageOptions: {
      ecmaVersion: 'latest',
      sourceType: 'module',
      globals: { ...globals.node },
    },
    linterOptions: { reportUnusedDisableDirectives: 'warn' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/no-explicit-any': 'warn',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/consistent-type-imports': ['warn', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
      // Binary and text parsers legitimately match control characters.
      'no-control-regex': 'off',
      // `interface ApiEvents extends JobEvents {}` is how the API contract composes domains.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
      eqeqeq: ['error', 'smart'],
      'no-var': 'error',
      'prefer-const': 'error',
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: electronImportMessage }],
          patterns: [{ group: ['electron/*'], message: electronImportMessage }],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.name='require'][arguments.0.value=/^electron(\\/|$)/]",
          message: electronImportMessage,
        },
        {
          selector: "ImportExpression[source.value=/^electron(\\/|$)/]",
          message: electronImportMessage,
        },
        {
          selector: "MemberExpression[property.name='sendSync']",
          message: 'Synchronous IPC blocks both processes: use invoke/handle.',
        },
      ],
      'no-restricted-properties': [
        'error',
        { property: 'sendSync', message: 'Synchronous IPC blocks both processes: use invoke/handle.' },
      ],
    },
  },
  {
    // The Electron glue may import electron; sendSync stays forbidden there too.
    files: ELECTRON_GLUE,
    rules: {
      'no-restricted-imports': 'off',
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[property.name='sendSync']",
          message: 'Synchronous IPC blocks both processes: use invoke/handle.',
        },
      ],
    },
  },
  {
    files: ['renderer/**/*.{ts,vue}', 'test/renderer/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['test/e2e/**/*.{js,mjs,ts}', 'scripts/e2e.mjs'],
    // page.evaluate callbacks run in the browser
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    files: ['**/*.vue'],
    rules: {
      'vue/no-v-html': 'error',
      'vue/no-v-text-v-html-on-component': 'error',
      'vue/multi-word-component-names': ['error', { ignores: ['App'] }],
      'vue/require-default-prop': 'off',
      // Layout is left to the formatter; these only fight it.
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
      'vue/html-indent': 'off',
      'vue/html-closing-bracket-newline': 'off',
      'vue/first-attribute-linebreak': 'off',
      'vue/html-self-closing': 'off',
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
