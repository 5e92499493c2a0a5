// The chat page: the official Feathers client over Socket.io. Users sign up and log in with
// email and password; the access token is kept in localStorage, so a reload logs in again with
// it. Messages written by anyone appear live through the `messages created` event, which the
// server sends to logged-in connections only.
'use strict';

const socket = io();
const client = feathers();
client.configure(feathers.socketio(socket));
client.configure(feathers.authentication());

const messages = client.service('messages');
const users = client.service('users');

const authForm = document.getElementById('auth');
const chat = document.getElementById('chat');
const list = document.getElementById('messages');
const status = document.getElementById('status');
const whoami = document.getElementById('whoami');

let me = null;

function show(error) {
  status.textContent = `${error.name || 'Error'}: ${error.message}`;
  status.className = 'error';
}

function say(text) {
  status.textContent = text;
  status.className = '';
}

function render(message) {
  const item = document.createElement('li');
  item.dataset.id = message.id;
  const time = document.createElement('time');
  time.dateTime = message.createdAt;
  time.textContent = new Date(message.createdAt).toLocaleTimeString();
  const author = document.createElement('span');
  author.className = 'author';
  // The server writes the author (the owner rule on messages); users are private to themselves.
  author.textContent = message.author || 'someone';
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = message.text;
  item.append(time, author, text);
  return item;
}

function append(message) {
  if (list.querySelector(`li[data-id="${CSS.escape(String(message.id))}"]`)) return;
  list.append(render(message));
  list.lastElementChild.scrollIntoView({ block: 'nearest' });
}

// The latest messages, oldest first. A paginated find answers {total, limit, skip, data}.
// Messages that arrived live while the page loaded stay after them.
async function loadMessages() {
  const page = await messages.find({ query: { $sort: { createdAt: -1 }, $limit: 25 } });
  const loaded = new Set(page.data.map((message) => String(message.id)));
  const live = [...list.children].filter((item) => !loaded.has(item.dataset.id));
  list.replaceChildren(...page.data.reverse().map(render), ...live);
  say(`${page.total} message(s)`);
}

async function enter(authResult) {
  me = authResult.user;
  whoami.textContent = me.email;
  authForm.hidden = true;
  chat.hidden = false;
  await loadMessages();
  document.getElementById('text').focus();
}

function leave() {
  me = null;
  list.replaceChildren();
  chat.hidden = true;
  authForm.hidden = false;
}

messages.on('created', (message) => {
  if (me) append(message);
});

authForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const email = authForm.elements.email.value;
  const password = authForm.elements.password.value;
  try {
    if (event.submitter && event.submitter.value === 'signup') {
      await users.create({ email, password });
    }
    await enter(await client.authenticate({ strategy: 'local', email, password }));
    authForm.reset();
  } catch (error) {
    show(error);
  }
});

document.getElementById('send').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = event.target.elements.text;
  try {
    await messages.create({ text: input.value });
    input.value = '';
  } catch (error) {
    show(error);
  }
});

document.getElementById('logout').addEventListener('click', async () => {
  await client.logout().catch(show);
  leave();
  say('Logged out');
});

// A stored token from an earlier visit logs in again; without one, the page asks.
client
  .reAuthenticate()
  .then(enter)
  .catch(() => leave());
