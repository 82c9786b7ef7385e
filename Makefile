# EC Shop — the two commands that matter: `make dev` runs the shop, `make test` passes the tests.
SHELL := /bin/bash
.DEFAULT_GOAL := help
ARGS ?=

.PHONY: help deps web dev dev-fresh test typecheck lint test-unit test-broker test-integration test-browser test-dev test-system bench bench-broker rebuild up down logs clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  make %-16s %s\n", $$1, $$2 }'

deps: ## install whatever this machine lacks (npm packages, Java, kcat)
	@./scripts/ensure-deps.sh

# The SPA is rebuilt only when one of its sources (or the lockfile) is newer than the build.
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json src/composition/http/api-types.ts package-lock.json

web: deps web/dist/index.html ## build the browser SPA into web/dist (the api serves it at /)

web/dist/index.html: $(WEB_SOURCES)
	@echo "== building the SPA (vite)"; npx vite build --config web/vite.config.ts --logLevel warn

# `node --import tsx`, not `npx tsx`: no wrapper process between the terminal and the launcher to re-send Ctrl-C.
dev: deps web ## run the whole shop on the embedded stack (Ctrl-C stops everything); ARGS="--projectors 3"
	@node --import tsx cmd/dev.ts $(ARGS)

dev-fresh: deps web ## like dev, but start from empty data (new secrets, new PostgreSQL cluster)
	@node --import tsx cmd/dev.ts --fresh $(ARGS)

test: deps typecheck lint test-unit test-broker test-system ## type check, lint and every test

typecheck:
	@echo "== typecheck"; npx tsc -p tsconfig.json && npx tsc -p web/tsconfig.json

# prettier (formatting), eslint, knip (knip.jsonc: an unused file, dependency, export or exported type fails).
lint:
	@echo "== lint"; npx prettier --check --log-level warn . && npx eslint --max-warnings=0 . && npx knip --no-progress --reporter compact

test-unit:
	@echo "== unit tests"; npm run --silent test:unit

test-broker:
	@echo "== dev broker tests (kafkajs + kcat)"; npm run --silent test:broker

test-integration: web
	@echo "== integration and end-to-end tests (embedded stack)"; npm run --silent test:integration

test-browser: web
	@echo "== browser tests (headless Chromium against the real processes)"; npm run --silent test:browser

# What make test runs after the unit and broker tests: every integration, end-to-end, browser and make-dev test
# in one run over one embedded stack, three files at a time, the longest (faults, make dev) first. Most of their
# time is waiting (a broker frozen 30 s, processes starting), so three at once on two cores finish sooner.
test-system: web
	@echo "== integration, end-to-end, browser and make dev tests (embedded stack, real processes, headless Chromium)"; npm run --silent test:system

test-dev:
	@echo "== make dev itself (its own stack: secrets, loopback, supervision, Ctrl-C)"; npm run --silent test:dev

bench: deps ## measure the shop on the embedded stack (prints one table)
	@npm run --silent bench

bench-broker: deps ## measure the dev broker
	@npm run --silent bench:broker

rebuild: ## rebuild every read table from the event store (against the running stack)
	@npm run --silent rebuild

up: ## production-like stack in Docker; the first run writes .env with generated secrets (scripts/init-env.sh)
	@./scripts/init-env.sh
	docker compose up -d --build
	@echo "shop http://localhost:8080  Kafka UI http://localhost:8081  Mailpit http://localhost:8025  DynamoDB admin http://localhost:8001 (all on 127.0.0.1; logins in .env)"

down: ## stop the Docker stack (keeps volumes)
	docker compose down

logs: ## follow the Docker stack's logs
	docker compose logs -f --tail=100

clean: ## stop the Docker stack and delete its volumes, and the embedded stack's .data/
	-docker compose down -v
	rm -rf .data
