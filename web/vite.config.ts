import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The SPA is built into web/dist, which the api serves at `/` (src/composition/http/app.ts): index.html revalidated on
 * every load, assets/ named by content hash and cached for good. `npm run web:dev` serves it through Vite with
 * hot reload instead, proxying the API paths to an api on API_URL (default http://127.0.0.1:8080).
 */
const api = process.env.API_URL ?? 'http://127.0.0.1:8080';
const apiPaths = [
  '/auth',
  '/me',
  '/products',
  '/categories',
  '/inventory',
  '/cart',
  '/orders',
  '/events',
  '/sagas',
  '/marketing',
  '/dashboard',
  '/ops',
  '/live',
  '/healthz',
  '/readyz',
  '/metrics',
];

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // No inline module-preload polyfill or inline assets: the api's CSP allows scripts from 'self' only.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: { proxy: Object.fromEntries(apiPaths.map((p) => [p, { target: api, changeOrigin: false }])) },
});
