FROM busybox:1.36 AS one
USER root
RUN echo one

FROM busybox:1.36 AS two
USER root
USER 1000

FROM busybox:1.36 AS three
USER 0:0
RUN id
USER root:root

FROM busybox:1.36
USER nobody
USER 0
