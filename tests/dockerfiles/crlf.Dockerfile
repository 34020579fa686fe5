FROM busybox
RUN echo windows \
    line endings

# a comment
CMD ["sh"]
