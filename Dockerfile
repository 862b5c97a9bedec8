# syntax=docker/dockerfile:1
# coffre's container image. The image runs JavaScript compiled from the sources by tsc (decision 0008:
# 18 MB less resident memory than Node's type stripping at run time, and a faster start); the dev loop
# and the tests still run the TypeScript directly. The build stage compiles, the deps stage resolves
# production dependencies only; nothing of the tests or dev tooling reaches the runtime stage.
# test/integration/install/runtime-image.test.ts reproduces these steps without Docker (read from this
# file: the npm command, the compile command, the copies, the entrypoint) and runs the result.

FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM gcr.io/distroless/nodejs24-debian12:nonroot AS runtime
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
USER 65532:65532
# Node's permission model, on top of the chart's read-only root filesystem: the process reads its files
# and the mounted token and CA, writes only under /tmp (an emptyDir), and can start no child process,
# worker or native addon.
ENTRYPOINT ["/nodejs/bin/node", "--permission", "--allow-fs-read=*", "--allow-fs-write=/tmp", "dist/main.js"]
