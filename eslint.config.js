import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', 'web/vendor/**', 'dist/**', 'web/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // Tests read arbitrary JSON replies: `any` there is deliberate.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'packages/*/test/**/*.ts', 'packages/*/bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['web/**/*.js'],
    languageOptions: { globals: globals.browser, sourceType: 'module' },
  },
  {
    // The SPA: browser globals, and the rules of hooks.
    files: ['web/src/**/*.{ts,tsx}'],
    languageOptions: { globals: globals.browser },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Domain code stays pure: no SDKs, no clocks — deciders are then fast to test, and replaying a stream gives
    // the same state wherever it runs. In each context folder these are the events, the deciders and the pure
    // helpers beside them (and the index.ts that exports them); the handlers, routes, projections, queries, mail
    // and worker parts next to them may use the SDKs.
    files: [
      'src/contexts/*/index.ts',
      'src/contexts/*/events.ts',
      'src/contexts/*/*decider.ts',
      'src/contexts/orders/checkout.ts',
      'src/contexts/inventory/snapshot.ts',
      'src/contexts/users/email-claim.ts',
      'src/contexts/shipping/fulfilment.ts',
      'src/contexts/shipping/carrier.ts',
    ],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@aws-sdk/*', 'kafkajs', 'pg', 'hono', 'hono/*', 'nodemailer', 'node:*'] }],
    },
  },
);
