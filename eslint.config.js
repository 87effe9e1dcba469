// Type-aware lint: the rules that matter here need the type checker (a dropped audit write is a
// compliance hole, so floating and misused promises are errors), hence projectService over
// tsconfig.json. `npm run lint` allows zero warnings.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: [
      'node_modules/',
      'data/',
      '.cache/',
      'coverage/',
      'test-output/',
      '**/generated/',
      '**/__generated__/',
      '**/*.generated.ts',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // A `default` does not make a switch over a union exhaustive: a member added later must be
      // handled where the union is switched on, not fall silently into the default.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: false }],
      // `async` on a function that fulfils a Promise-returning contract (Apollo plugin hooks and
      // context functions, store interfaces, resolver factories) turns a throw into a rejection,
      // which is what its callers handle; the rule would trade that for Promise.resolve wrappers.
      '@typescript-eslint/require-await': 'off',
      // tsc's noFallthroughCasesInSwitch checks this with types (it knows process.exit and other
      // `never` calls end a case); the untyped rule reports those as fallthroughs.
      'no-fallthrough': 'off',
      // A package's dist/ files are its build layout, not its interface: any release may move or
      // change them. Import what the package exports, or write the type here.
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(@[^/]+/)?[^./][^/]*/(.+/)?dist(/|$)', message: 'Import what the package exports, never its dist/ files.' }] },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Vitest types its asymmetric matchers (expect.any, expect.stringContaining, ...) as `any`;
      // every report in the tests was one of them.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    // Apollo Client 4 is configured for errorPolicy 'all' by augmenting its namespaces: the guide
    // shows developers exactly that declaration, so it stays in namespace form.
    files: ['test/developers/guide/apollo-client.ts'],
    rules: { '@typescript-eslint/no-namespace': 'off' },
  },
  {
    // This file is JavaScript outside tsconfig.json: lint it without type information.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
