FROM busybox
RUN echo a \

    b \
   	
    c
RUN \
    echo started on the next line
