# The tutorial's minimal form: a base image, a command at build time, the start command.
FROM busybox
RUN echo "hello from the build" > /hello.txt
CMD ["cat", "/hello.txt"]
