FROM nginx:latest
MAINTAINER web team
RUN apt-get update && apt-get install -y \
    curl \
    vim \
 && apt-get clean
ADD nginx.conf /etc/nginx/nginx.conf
ADD site /usr/share/nginx/html
USER root
RUN sudo chown -R nginx /usr/share/nginx/html
RUN cd /etc/nginx; ls | sort
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
