# syntax=docker/dockerfile:1
# A small static image: the missionbot binary (pure Go, CGO_ENABLED=0, with
# timezone data embedded through time/tzdata), the CA certificates of the
# distroless base, running as the non-root user 65532 with SQLite data in the
# /data volume. `serve` is the default command and `missionbot healthcheck`
# (no curl in the image) the HEALTHCHECK. `docker run -it IMAGE console` tries
# the bot in a terminal. deploy/compose.yaml runs two replicas on PostgreSQL
# and Redis behind nginx; deploy/README.md tells how.

# The build runs on the builder's own platform and cross-compiles, which a
# cgo-free binary allows.
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS
ARG TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/missionbot ./cmd/missionbot \
 && mkdir -p /out/data

# distroless/static: no shell, no package manager, no libc; CA certificates,
# /etc/passwd with the nonroot user (65532) and tzdata included.
FROM gcr.io/distroless/static-debian12:nonroot AS runtime
COPY --from=build /out/missionbot /usr/local/bin/missionbot
COPY --from=build --chown=65532:65532 /out/data /data
COPY config.example.yaml /etc/missionbot/config.yaml
WORKDIR /data
VOLUME /data
ENV MISSIONBOT_CONFIG=/etc/missionbot/config.yaml \
    MISSIONBOT_DATABASE_PATH=/data/missionbot.db \
    MISSIONBOT_HTTP_ADDR=:8080
EXPOSE 8080
USER 65532:65532
# healthcheck GETs http://127.0.0.1:<port of http.addr>/readyz with a 2 s
# timeout: exit 0 when ready (or degraded on the Redis fallback), 1 with one
# line naming the failing check otherwise.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/missionbot", "healthcheck"]
# serve shuts down gracefully on SIGTERM within http.drain_timeout (20 s);
# give containers a longer stop timeout than that (compose: stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/missionbot"]
CMD ["serve"]
