# OPTIX Sessions: the compiled service on Node 24 (LTS), as a non-root user.
#
#   docker build -t optix-sessions .
#   docker compose up            # this image beside Redis (docker-compose.yml)
#
# The start command is the tested production command (`node dist/server.js`, what
# `npm run start:prod` runs; test/http/start-ways.test.ts checks that the two are the same). In the
# exec form node is PID 1 and receives the SIGTERM of `docker stop`: it drains requests in flight
# for up to 10 s and exits 0, so give the container more than that (`stop_grace_period`).

# --- build: compile TypeScript to dist/ (with the Lua scripts and the web consoles) ---
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/clean-dist.mjs scripts/copy-lua.mjs scripts/copy-web.mjs ./scripts/
COPY src ./src
COPY web ./web
RUN npm run build

# --- deps: the runtime dependencies only (no tsx, no TypeScript) ---
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime: compiled output and runtime dependencies, nothing else ---
FROM node:24-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 8080
# No curl in the slim image: node asks /healthz itself.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/server.js"]
