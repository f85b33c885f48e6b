# syntax=docker/dockerfile:1
# ecs-power controller image.
#   docker build -t ghcr.io/ecs-power/ecs-power:v0.1.0 .
#   podman build -t ghcr.io/ecs-power/ecs-power:v0.1.0 .
# The Node.js major (24) is the one the tests run on (the `node` devDependency). The base images
# are build arguments so that a machine without registry access can build from local stand-ins
# (the tests do: test/support/provision-image.sh); the defaults are the public images.
ARG BUILD_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

# ---- modules: every dependency, downloaded once (cached while package*.json do not change) --
FROM ${BUILD_IMAGE} AS modules
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: nothing here needs an install script (and the `node` devDependency's would
# download a second Node.js binary).
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund

# ---- build: compile src/ to dist/ --------------------------------------------------------
FROM modules AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- deps: production dependencies only, without TypeScript sources and source maps --------
FROM modules AS deps
COPY scripts/prune-node-modules.mjs /tmp/
RUN npm prune --omit=dev --ignore-scripts --no-audit --no-fund && node /tmp/prune-node-modules.mjs node_modules

# ---- runtime: distroless (Node.js and its libraries; no shell, no npm) ----------------------
FROM ${RUNTIME_IMAGE}
# Heap sizing measured with 10,000 resources; see deploy/deployment.yaml.
ENV NODE_ENV=production NODE_OPTIONS="--max-old-space-size=192 --max-semi-space-size=8"
WORKDIR /app
COPY --from=deps --chown=0:0 /app/node_modules ./node_modules
COPY --from=build --chown=0:0 /app/dist ./dist
COPY --chown=0:0 package.json ./
# Numeric user and group, so that Kubernetes' runAsNonRoot can verify them; the files above are
# owned by root and read-only for the controller.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/nodejs/bin/node", "dist/main.js"]
