# The messenger server and CLI. Build: docker build -t messenger .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p messenger-server -p messenger-cli

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 messenger
COPY --from=build /src/target/release/messenger-server /src/target/release/messenger-cli /usr/local/bin/
USER messenger
ENV MESSENGER_ADDR=0.0.0.0:8080
EXPOSE 8080
CMD ["messenger-server"]
