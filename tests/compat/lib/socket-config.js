// The configuration the Socket.io compatibility tests serve: users that log in with the local
// strategy (email + password, the password hashed and never returned), a `messages` service
// only authenticated connections may call, an open `notes` service, and a service exposing only
// find and get. Events go to authenticated connections only, as in a generated Feathers app's
// channels (anonymous connections join `anonymous`, a login moves them to `authenticated`, and
// every event is published to `authenticated`). The JWT secret comes from the environment.
'use strict';

module.exports = () => `
name: compat-socket
host: 127.0.0.1
port: 3030
authentication:
  secret: \${PLUME_AUTH_SECRET}
  service: users
  strategies: [local, jwt]
  local: { usernameField: email, passwordField: password }
realtime:
  publish: authenticated
services:
  users:
    database: memory
    schema:
      email: { type: string, format: email, unique: true, required: true }
      password: { type: string, secret: true, required: true }
    paginate: { default: 10, max: 50 }
  messages:
    database: memory
    auth: jwt
    schema:
      text: { type: string, required: true }
      n: { type: integer }
      createdAt: { type: string, format: date-time, default: now }
    paginate: { default: 10, max: 50 }
    multi: [patch, remove]
  notes:
    database: memory
  locked:
    database: memory
    methods: [find, get]
`;
