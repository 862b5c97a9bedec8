# syntax=docker/dockerfile:1
# coffre's container image. Node 24 runs the TypeScript sources directly (docs/decisions/0002), so the
# build stage only resolves production dependencies; nothing of the tests or dev tooling reaches the
# runtime stage. test/integration/install/runtime-image.test.ts reproduces these steps without Docker
# (read from this file: the npm command, the copies, the entrypoint) and runs the result.

FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM gcr.io/distroless/nodejs24-debian12:nonroot AS runtime
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
USER 65532:65532
# Node's permission model, on top of the chart's read-only root filesystem: the process reads its files
# and the mounted token and CA, writes only under /tmp (an emptyDir), and can start no child process,
# worker or native addon.
ENTRYPOINT ["/nodejs/bin/node", "--permission", "--allow-fs-read=*", "--allow-fs-write=/tmp", "src/main.ts"]
