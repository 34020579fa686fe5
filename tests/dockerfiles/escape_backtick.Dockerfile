# escape=`
# A Windows-style Dockerfile: backtick continues lines, backslashes are plain characters.
FROM busybox
COPY a C:\temp\a
RUN echo one `
    two `
    three
RUN echo back\slash \
RUN echo last
