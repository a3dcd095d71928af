# syntax=docker/dockerfile:1
# A small static image: the missionbot binary, CA certificates and timezone
# data (embedded in the binary through time/tzdata), running as a non-root
# user with SQLite data in /data. The default command is `serve`, which says
# what to set when no platform is configured; `docker run -it IMAGE console`
# tries the bot in a terminal.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/missionbot ./cmd/missionbot \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
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
ENTRYPOINT ["/usr/local/bin/missionbot"]
CMD ["serve"]
