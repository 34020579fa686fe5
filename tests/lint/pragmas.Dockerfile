# hadolint global ignore=DL3006
FROM busybox
# hadolint ignore=DL3004,DL3003
RUN sudo x && cd y
# hadolint ignore=DL3004

RUN sudo z
# hadolint ignore=DL3004
# another comment
RUN sudo w
