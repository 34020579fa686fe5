FROM node:20 AS deps
WORKDIR /app
COPY package*.json ./
RUN npm ci

FROM node:20-alpine
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
RUN apk add --no-cache curl
RUN npm run build 2>&1 | tee /tmp/build.log
HEALTHCHECK --interval=30s CMD curl -f http://localhost:3000/ || exit 1
USER node
ENTRYPOINT ["node"]
CMD ["server.js"]
