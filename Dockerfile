# Two images from one build context:
#   docker build --target manager -t caddy-gateway-operator .      (operator + admin-proxy)
#   docker build --target caddy   -t caddy-gateway-caddy .         (Caddy + caddy-l4 + our modules)
# Without a container engine, `make images` builds the same images from `make build` output.
FROM golang:1.27 AS builder
ARG TARGETOS
ARG TARGETARCH
ENV GOTOOLCHAIN=auto
WORKDIR /workspace
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY internal/ internal/
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -trimpath -o manager ./cmd
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -trimpath -o caddy ./cmd/caddy

FROM gcr.io/distroless/static:nonroot AS caddy
COPY --from=builder /workspace/caddy /usr/bin/caddy
USER 65532:65532
ENTRYPOINT ["/usr/bin/caddy"]

FROM gcr.io/distroless/static:nonroot AS manager
WORKDIR /
COPY --from=builder /workspace/manager /manager
USER 65532:65532
ENTRYPOINT ["/manager"]
