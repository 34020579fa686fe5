FROM busybox:1.36
ONBUILD RUN sudo make install
ONBUILD RUN apt-get update && apt-get install -y make
ONBUILD RUN cd /src && make
ONBUILD CMD run
ONBUILD ADD src.txt /src/
ONBUILD RUN apt-get update && apt-get install -y --no-install-recommends make=4.3 && rm -rf /var/lib/apt/lists/*
