// The chat demo in a real browser: `plume serve` with examples/demo/config (on a free port, with
// a temporary SQLite database), Debian's chromium driven by playwright-core, two isolated
// browser contexts. Two people sign up and log in; what one posts appears on the other's page
// without a reload, over Socket.io.
//
// PLUME_BINARY names the binary (CTest sets it; else build/plume). CHROMIUM_PATH names the
// browser (else /usr/bin/chromium). With FEATHERS_REFERENCE_URL set, the pages are loaded from
// that server instead: a stock Feathers 5 app serving examples/demo/public with the same
// services, which is how the page and this test are checked against Feathers itself. The page
// needs the browser builds in examples/demo/public/vendor (scripts/setup.sh plume_demo_vendor).
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { after, before, describe, it } = require('node:test');
const { chromium } = require('playwright-core');

// The server launcher the Node compatibility tests use (tests/compat, npm ci there first).
const { startPlume } = require('../compat/lib/plume');

const ROOT = path.resolve(__dirname, '../..');
const DEMO_CONFIG = path.join(ROOT, 'examples/demo/config/default.yaml');
const VENDOR = path.join(ROOT, 'examples/demo/public/vendor');
const UI_TIMEOUT_MS = 10_000;

// Headless and quiet: no GPU, no QUIC, no background traffic to Google's services, nothing
// shared with another run (playwright gives each launch a fresh user-data-dir).
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
];

async function startDemo() {
  if (process.env.FEATHERS_REFERENCE_URL) {
    return { url: process.env.FEATHERS_REFERENCE_URL.replace(/\/$/, ''), stop: async () => {} };
  }
  // The demo configuration as committed, with a `test` overlay that moves the database into the
  // temporary directory. It runs from the repository root, as scripts/demo.sh runs it.
  return startPlume(
    (dir) => ({
      'default.yaml': fs.readFileSync(DEMO_CONFIG, 'utf8'),
      'test.yaml': `databases:\n  main: sqlite://${path.join(dir, 'demo.db')}\n`
    }),
    {
      cwd: ROOT,
      env: { PLUME_ENV: 'test', PLUME_AUTH_SECRET: crypto.randomBytes(32).toString('base64') }
    }
  );
}

let server;
let browser;

before(async () => {
  for (const file of ['feathers.min.js', 'socket.io.min.js']) {
    if (!fs.existsSync(path.join(VENDOR, file))) {
      throw new Error(`${path.join(VENDOR, file)} is missing: run plume_demo_vendor from scripts/setup.sh`);
    }
  }
  server = await startDemo();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    timeout: 30_000
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

// A person on the chat page in their own browser context (own cookies and localStorage).
async function visit(name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`${name}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${name}: console: ${message.text()}`);
  });
  await page.goto(`${server.url}/`);
  await page.locator('#auth').waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
  return { name, context, page, problems, email: `${name}-${crypto.randomBytes(4).toString('hex')}@example.com` };
}

async function signUp(person) {
  const { page } = person;
  await page.fill('#email', person.email);
  await page.fill('#password', `pw-${person.name}-123`);
  await page.click('#signup');
  await page.locator('#chat').waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
  assert.equal(await page.textContent('#whoami'), person.email);
}

async function post(person, text) {
  await person.page.fill('#text', text);
  await person.page.press('#text', 'Enter');
}

// The message item with exactly this text, once it is on the page.
async function waitForMessage(person, text) {
  const item = person.page.locator('#messages li', { has: person.page.locator('.text', { hasText: text }) });
  await item.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
  return item;
}

describe('chat demo in the browser', () => {
  it('two people sign up, and what one posts appears live on the other\'s page', async () => {
    const alice = await visit('alice');
    const bob = await visit('bob');
    try {
      await signUp(alice);
      await signUp(bob);

      // A reload would lose this marker: the message must arrive on the live page.
      await bob.page.evaluate(() => (window.stillTheSamePage = true));

      const hello = `Hello from Alice ${crypto.randomBytes(3).toString('hex')}`;
      await post(alice, hello);
      const onBobsPage = await waitForMessage(bob, hello);
      assert.equal(await onBobsPage.locator('.author').textContent({ timeout: UI_TIMEOUT_MS }), alice.email);
      assert.equal(await bob.page.evaluate(() => window.stillTheSamePage), true, 'no reload');

      const reply = `Hi Alice, Bob here ${crypto.randomBytes(3).toString('hex')}`;
      await post(bob, reply);
      await waitForMessage(alice, reply);
      await waitForMessage(alice, hello);
      assert.equal(await alice.page.inputValue('#text'), '', 'the input is cleared after sending');

      assert.deepEqual([...alice.problems, ...bob.problems], []);
    } finally {
      await alice.context.close();
      await bob.context.close();
    }
  });

  it('a reload keeps the person logged in with the stored token and shows earlier messages', async () => {
    const carol = await visit('carol');
    try {
      await signUp(carol);
      const text = `Before the reload ${crypto.randomBytes(3).toString('hex')}`;
      await post(carol, text);
      await waitForMessage(carol, text);

      await carol.page.reload();
      await carol.page.locator('#chat').waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
      assert.equal(await carol.page.textContent('#whoami'), carol.email);
      await waitForMessage(carol, text);

      await carol.page.click('#logout');
      await carol.page.locator('#auth').waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
      await carol.page.reload();
      await carol.page.locator('#auth').waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
      assert.equal(await carol.page.isVisible('#chat'), false, 'logged out stays logged out');
      assert.deepEqual(carol.problems, []);
    } finally {
      await carol.context.close();
    }
  });

  it('a wrong password shows Feathers\' NotAuthenticated message', async () => {
    const dave = await visit('dave');
    try {
      await signUp(dave);
      await dave.page.click('#logout');
      await dave.page.locator('#auth').waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
      await dave.page.fill('#email', dave.email);
      await dave.page.fill('#password', 'not-the-password');
      await dave.page.click('#login');
      await dave.page.locator('#status.error').waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
      assert.equal(await dave.page.textContent('#status'), 'NotAuthenticated: Invalid login');
      assert.equal(await dave.page.isVisible('#chat'), false);
    } finally {
      await dave.context.close();
    }
  });
});
