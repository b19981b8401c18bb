// ESLint flat config for the whole repository: TypeScript (typescript-eslint), Vue single-file
// components (eslint-plugin-vue), plus the project's architectural rules:
//  - only the Electron glue (main/electron/**, main/index.ts, preload/index.ts) may import 'electron',
//    so the engine, backend, server and CLI stay runnable and testable under plain Node;
//  - no synchronous IPC (sendSync blocks the renderer and the main process);
//  - no v-html: user-supplied strings (file names, node names, CSV headers) are rendered as text;
//  - layers point one way: renderer -> preload contract; cli/server/electron -> backend -> engine.
//    The engine imports from no layer above it, the backend not from the server, CLI, Electron glue
//    or renderer, the preload not from main/** (except type-only imports of the engine's pure type
//    files, main/engine/**/contract-types) nor the renderer, the renderer nothing from main/**.
//    test/layering/layers.test.ts checks the same rule by resolving every import, dynamic ones too.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import pluginVue from 'eslint-plugin-vue';
import globals from 'globals';

const ELECTRON_GLUE = ['main/electron/**', 'main/index.ts', 'preload/index.ts'];

const electronImportMessage =
  "Only Electron glue (main/electron/**, main/index.ts, preload/index.ts) may import 'electron'; engine, backend, server, CLI and renderer code must run under plain Node or in the browser.";

const ELECTRON_PATHS = [{ name: 'electron', message: electronImportMessage }];
const ELECTRON_PATTERNS = [{ group: ['electron/*'], message: electronImportMessage }];

// Layer patterns match the import specifier as written (relative, from inside the layer's folder).
const UP = '^(?:\\.\\./)+';
const ENGINE_PATTERNS = [
  {
    regex: `${UP}(?:main/)?(?:backend|server|cli|electron)(?:/|$)`,
    message: 'The engine (main/engine/**) imports nothing from the backend, server, CLI or Electron glue; put what it needs in the engine (e.g. main/engine/store/workspace-port.ts, main/engine/errors.ts).',
  },
  {
    regex: `${UP}(?:preload|renderer)(?:/|$)`,
    message: 'The engine (main/engine/**) imports nothing from the preload contract or the renderer; shared types live in the engine (e.g. main/engine/data/contract-types.ts) and the contract re-exports them.',
  },
];
const BACKEND_PATTERNS = [
  {
    regex: `${UP}(?:main/)?(?:server|cli|electron)(?:/|$)`,
    message: 'The backend (main/backend/**) imports nothing from the server, CLI or Electron glue: they call the backend, not the other way round.',
  },
  { regex: `${UP}renderer(?:/|$)`, message: 'The backend (main/backend/**) imports nothing from the renderer.' },
];
const PRELOAD_PATTERNS = [
  {
    regex: `${UP}main/(?!engine/(?:[\\w.-]+/)*contract-types(?:\\.ts)?$)`,
    message: 'The preload (preload/**) imports nothing from main/**, except type-only imports of the engine\'s pure type files (main/engine/**/contract-types).',
  },
  {
    regex: `${UP}main/engine/(?:[\\w.-]+/)*contract-types(?:\\.ts)?$`,
    allowTypeImports: true,
    message: 'The preload may import the engine\'s contract types only with `import type` / `export type`.',
  },
  { regex: `${UP}renderer(?:/|$)`, message: 'The preload (preload/**) imports nothing from the renderer.' },
];
const RENDERER_PATTERNS = [
  {
    regex: `${UP}main(?:/|$)`,
    message: 'The renderer imports nothing from main/**: it talks to the backend only through the preload contract (preload/api, getApi()).',
  },
];

/** no-restricted-imports for a layer. A later config for the same files replaces the rule's options, so each carries the electron entries too. */
function restrictImports(patterns, { electron = true } = {}) {
  return [
    'error',
    {
      paths: electron ? ELECTRON_PATHS : [],
      patterns: [...(electron ? ELECTRON_PATTERNS : []), ...patterns],
    },
  ];
}

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
      'no-restricted-imports': restrictImports([]),
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
  // Layers (after the glue's 'off', so they apply to preload/index.ts as well, without the electron entries).
  { files: ['main/engine/**/*.{ts,mts,cts,js,mjs,cjs}'], rules: { 'no-restricted-imports': restrictImports(ENGINE_PATTERNS) } },
  { files: ['main/backend/**/*.{ts,mts,cts,js,mjs,cjs}'], rules: { 'no-restricted-imports': restrictImports(BACKEND_PATTERNS) } },
  {
    files: ['preload/**/*.{ts,mts,cts,js,mjs,cjs}'],
    ignores: ELECTRON_GLUE,
    rules: { 'no-restricted-imports': restrictImports(PRELOAD_PATTERNS) },
  },
  { files: ['preload/index.ts'], rules: { 'no-restricted-imports': restrictImports(PRELOAD_PATTERNS, { electron: false }) } },
  { files: ['renderer/**/*.{ts,vue,js,mjs}'], rules: { 'no-restricted-imports': restrictImports(RENDERER_PATTERNS) } },
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
