FROM golang:1.22 AS build
WORKDIR /src
RUN apt-get update
RUN go build -o /out/app .

FROM build AS test
RUN apt-get update && rm -rf /var/lib/apt/lists/*

FROM alpine AS unused
RUN apt-get update

FROM build
FROM scratch
COPY --from=build /out/app /app
ENTRYPOINT ["/app"]
