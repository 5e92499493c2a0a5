// The http-proxy-middleware peer: an Express app whose one middleware proxies everything to the
// upstream with a keep-alive agent, as a Node gateway in front of a service runs.
//   node bench/gateway/hpm-proxy.js <port> <upstream url>
const http = require('node:http');
const express = require('express');
const { createProxyMiddleware } = require('http-proxy-middleware');

const [port, target] = process.argv.slice(2);
const app = express();
app.use(
  createProxyMiddleware({
    target,
    changeOrigin: true,
    agent: new http.Agent({ keepAlive: true, maxSockets: 256 }),
  }),
);
app.listen(Number(port), '127.0.0.1');
