# dirgate's container image: a static binary on distroless, as a non-root
# user. deploy/helm/dirgate runs it; deploy/helm's tests build the binary
# with this file's `go build` line and run it as the chart's pods do.
#   docker build -t dirgate:dev --build-arg VERSION=0.1.0 .
FROM golang:1.27.3-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=0.1.0-dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/dirgate/dirgate/internal/version.Version=${VERSION}" -o /out/dirgate ./cmd/dirgate
# The data directory (only serve's lock over a PostgreSQL store; the
# SQLite database otherwise), owned by the user the image runs as.
RUN mkdir -p /out/var/lib/dirgate

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/dirgate /usr/local/bin/dirgate
COPY --from=build --chown=65532:65532 /out/var/lib/dirgate /var/lib/dirgate
USER 65532:65532
WORKDIR /var/lib/dirgate
# ldap:// (StartTLS), ldaps://, HTTPS: above 1024, as the user has no
# capability to bind lower ones.
EXPOSE 1389 1636 8443
ENTRYPOINT ["/usr/local/bin/dirgate"]
CMD ["serve", "--data=/var/lib/dirgate", "--ldap=:1389", "--ldaps=:1636", "--http=:8443"]
