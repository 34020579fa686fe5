FROM busybox
RUN echo spaces \   
    after the backslash
RUN echo a tab \	
    after the backslash
RUN echo not continued \ x
CMD ["sh"]   
