# `eden serve` in a small image that runs as a non-root user.
#   docker build -t eden .
#   docker run -e EDEN_API_KEYS=... -e AWS_REGION=... -p 8080:8080 eden
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin eden

FROM debian:bookworm-slim
# Only the CA bundle, from the image's own Debian release: a pinned version would break as soon
# as the archive moves on.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home eden
COPY --from=build /src/target/release/eden /usr/local/bin/eden
USER 10001
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/eden"]
CMD ["serve", "--listen", "0.0.0.0:8080"]
