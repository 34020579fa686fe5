# escape=`
FROM busybox
RUN echo the BOM is dropped `
    and the escape directive still counts
