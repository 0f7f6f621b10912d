# syntax=docker/dockerfile:1
#
# docker build -t idledger \
#   --build-arg VERSION="$(git describe --tags --always)" --build-arg COMMIT="$(git rev-parse HEAD)" .
#
# The final image holds no PostgreSQL server, so the embedded default cannot
# run in it: set IDLEDGER_DATABASE_URL (docker-compose.yml does). Other
# subcommands: docker run --entrypoint /idledger idledger migrate.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/idledger ./cmd/idledger \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/idledger /idledger
# The data dir (admin token, generated master key) must be writable by nonroot
# (65532); a named volume mounted here takes over this ownership.
COPY --from=build --chown=65532:65532 /out/data /data
ENV IDLEDGER_LISTEN=0.0.0.0:8080 \
    IDLEDGER_DATA_DIR=/data \
    IDLEDGER_LOG_FORMAT=json
USER nonroot
EXPOSE 8080
ENTRYPOINT ["/idledger", "serve"]
