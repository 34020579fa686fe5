FROM busybox:1.36
RUN cd /tmp && ls
RUN if true; then cd /y; fi
RUN FOO=1 sudo x
RUN for i in 1 2; do sudo echo "$i"; done
RUN (cd /a)
RUN { cd /b; }
RUN echo "cd x" sudo > /dev/null
RUN echo $(cd /x; sudo y) `cd z`
RUN ["sudo", "ls"]
RUN ["sh", "-c", "cd /tmp && ls"]
RUN sudoers=1 echo
RUN /usr/bin/sudo ls
