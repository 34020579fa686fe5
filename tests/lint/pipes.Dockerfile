FROM busybox:1.36 AS first
RUN echo hi | grep h
RUN a || b
RUN x |& y
RUN echo "a | b"
RUN echo $(ls | wc -l)
RUN ["sh", "-c", "ls | wc -l"]

FROM busybox:1.36 AS bash
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN ls | wc -l

FROM busybox:1.36 AS zsh
SHELL ["/usr/bin/zsh", "-c"]
RUN ls | wc -l
SHELL ["/bin/ash", "-eo", "pipefail", "-c"]
RUN ls | wc -l

FROM busybox:1.36 AS pwsh
SHELL ["pwsh", "-command"]
RUN ls | wc -l

FROM busybox:1.36 AS paths
# hadolint 2.15 knows /bin/bash and bash, not /usr/bin/bash
SHELL ["/usr/bin/bash", "-o", "pipefail", "-c"]
RUN ls | wc -l
SHELL ["bash", "-o", "pipefail", "-c"]
RUN ls | wc -l
