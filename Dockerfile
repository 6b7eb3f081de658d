# syntax=docker/dockerfile:1
# Both images from one build: `--target downloader` (with Debian's Chromium for PDF rendering) and
# `--target exporter` (the sidecar). Each ships its esbuild bundle on Node 24 LTS slim (an exact tag), running as `node`.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY downloader/package.json downloader/
COPY exporter/package.json exporter/
COPY testkit/package.json testkit/
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN node scripts/build.mjs

FROM node:24.22.3-bookworm-slim AS exporter
ENV NODE_ENV=production EXPORTER_HOST=0.0.0.0 EXPORTER_PORT=9464 MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=65536
WORKDIR /app
COPY --from=build --chown=node:node /src/dist/exporter.mjs /src/dist/exporter.mjs.map /src/dist/dashboard.* /src/dist/uplot.* ./
# The event socket's directory: the user's own and closed to others, which both processes insist on.
# A fresh named volume mounted here takes this owner and mode.
RUN install -d -o node -g node -m 700 /run/events
USER node
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.EXPORTER_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--expose-gc", "--max-semi-space-size=1", "--max-old-space-size=96", "exporter.mjs"]

FROM node:24.22.3-bookworm-slim AS downloader
RUN apt-get update \
  && apt-get install -y --no-install-recommends chromium fonts-liberation \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production PORT=8000 CHROMIUM_PATH=/usr/bin/chromium
WORKDIR /app
COPY --from=build --chown=node:node /src/dist/downloader.mjs /src/dist/downloader.mjs.map /src/dist/convertWorker.mjs /src/dist/convertWorker.mjs.map ./
# playwright-core stays outside the bundle (it loads its own files); it has no dependencies.
COPY --from=build --chown=node:node /src/node_modules/playwright-core ./node_modules/playwright-core
RUN install -d -o node -g node -m 700 /run/events
USER node
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--enable-source-maps", "downloader.mjs"]
