# datawarden worker and scheduler image: the CLI built from source on Node 20.
FROM node:20-slim

WORKDIR /app
ENV NODE_ENV=production

# Dependencies first, so source edits reuse this layer. The build needs the dev dependencies
# (TypeScript); install scripts are skipped because `prepare` would build before the sources exist.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --include=dev

COPY tsconfig.json ./
COPY src ./src
COPY schemas ./schemas
COPY jobs ./jobs
RUN npm run build

# Datasets and runs (outputs, audit log) are volumes; paths in jobs/*.json and in enqueued scans
# are resolved against /app. The worker runs as `node`, so it must own what it writes.
RUN mkdir -p /app/datasets /app/runs && chown node:node /app/datasets /app/runs
VOLUME ["/app/datasets", "/app/runs"]

USER node
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["worker"]
