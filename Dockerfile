# gossipd in a container. Build: docker build -t gossipd .
# Run (host networking, so mDNS and peers on the LAN work):
#   docker run -d --name gossipd --network host -v gossipd-data:/data gossipd
# The control API stays on 127.0.0.1:7420 inside; `docker exec gossipd gossipd status` uses it.
FROM node:20-bookworm-slim AS build
WORKDIR /src
# better-sqlite3 builds from source when no prebuilt binary matches
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
COPY configs ./configs
RUN npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production GOSSIPD_DATA=/data GOSSIPD_LOG_FORMAT=json
WORKDIR /opt/gossipd
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
COPY --from=build /src/configs ./configs
RUN ln -s /opt/gossipd/bin/gossipd.js /usr/local/bin/gossipd && mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 7421
# /healthz needs no token; the API answers only its own Host, which is what curl-less node sends here
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s \
  CMD node -e "fetch('http://127.0.0.1:7420/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
STOPSIGNAL SIGTERM
CMD ["gossipd", "start", "--api", "127.0.0.1:7420"]
