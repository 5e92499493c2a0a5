// Starts a `plume serve` process on a free loopback port with a configuration written to a
// temporary directory, waits until GET /healthz answers, and stops it (and removes the
// directory) afterwards. The binary comes from PLUME_BINARY (CTest sets it), else build/plume.
//
// PLUME_COMPAT_DATABASE=postgres://user@host:port/db switches every SQLite database of the
// configuration to a new PostgreSQL database made for that server on the given one (with psql:
// PLUME_COMPAT_PSQL, else psql on the PATH) and dropped when it stops; run-postgres.sh does it.
'use strict';

const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const feathers = require('@feathersjs/feathers');
const rest = require('@feathersjs/rest-client');

const STARTUP_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

function plumeBinary() {
  const binary = process.env.PLUME_BINARY || path.resolve(__dirname, '../../../build/plume');
  if (!fs.existsSync(binary)) {
    throw new Error(`plume binary not found at ${binary} (build it, or set PLUME_BINARY)`);
  }
  return binary;
}

// A port that was free a moment ago: bind port 0, read it, release it.
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let databaseCounter = 0;

function psql(url, sql) {
  execFileSync(process.env.PLUME_COMPAT_PSQL || 'psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], {
    stdio: ['ignore', 'ignore', 'pipe']
  });
}

// A new PostgreSQL database on the server PLUME_COMPAT_DATABASE names, and its URL.
function createPostgresDatabase(base) {
  const name = `compat_${process.pid}_${++databaseCounter}`;
  psql(base, `CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: () => psql(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

// config: a function (dir) => YAML text for default.yaml, or => {fileName: text} for several
// files (an overlay selected with PLUME_ENV), so the configuration can place files (SQLite
// databases) in the temporary directory. options.env: extra environment variables for the
// process (values the configuration takes with ${VAR}); options.cwd: its working directory,
// against which relative paths in the configuration resolve.
async function startPlume(config, options = {}) {
  const binary = plumeBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plume-compat-'));
  const files = config(dir);
  const postgresBase = process.env.PLUME_COMPAT_DATABASE;
  const database = postgresBase ? createPostgresDatabase(postgresBase) : null;
  for (const [name, text] of Object.entries(typeof files === 'string' ? { 'default.yaml': files } : files)) {
    fs.writeFileSync(path.join(dir, name), database ? text.replace(/sqlite:\/\/\S+/g, database.url) : text);
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;

  let output = '';
  const child = spawn(binary, ['serve', '--config', dir], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, PLUME_PORT: String(port), PLUME_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let exitStatus = null;
  exited.then((status) => (exitStatus = status));

  const stop = async () => {
    if (exitStatus === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
    if (database) database.drop();
  };

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (exitStatus !== null) {
      await stop();
      throw new Error(`plume exited during startup (${JSON.stringify(exitStatus)}):\n${output}`);
    }
    try {
      // A PostgreSQL-backed node is ready once its first connection succeeds.
      const reply = await fetch(`${url}/${database ? 'readyz' : 'healthz'}`);
      if (reply.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`plume did not answer /healthz within ${STARTUP_TIMEOUT_MS} ms:\n${output}`);
    }
    await sleep(50);
  }

  return { url, stop, output: () => output, exitStatus: () => exitStatus };
}

const STANDARD_METHODS = ['find', 'get', 'create', 'update', 'patch', 'remove'];

// A Feathers client app over the official REST client with Node's fetch. Custom methods must be
// declared when the remote service is registered (Feathers v5 client rule).
function client(url, customMethods = {}) {
  const app = feathers.feathers();
  const connection = rest(url).fetch(fetch);
  app.configure(connection);
  for (const [name, methods] of Object.entries(customMethods)) {
    app.use(name, connection.service(name), { methods: [...STANDARD_METHODS, ...methods] });
  }
  return app;
}

// Runs `call` and returns the error it rejects with; fails when it resolves.
async function rejection(call) {
  try {
    const result = await call();
    throw new Error(`expected the call to fail, it returned ${JSON.stringify(result)}`);
  } catch (error) {
    if (error && error.message && error.message.startsWith('expected the call to fail')) throw error;
    return error;
  }
}

module.exports = { startPlume, client, rejection, sleep };
