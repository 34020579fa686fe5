#  SYNTAX = docker/dockerfile:1
# Check=skip=JSONArgsRecommended
# escape=\
# a plain comment ends the directives, so this one is only a comment:
# escape=`
FROM busybox
RUN echo backslash \
    still continues
