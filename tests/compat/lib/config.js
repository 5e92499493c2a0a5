// The configuration every compatibility test serves: the same people schema on the memory store
// and on SQLite (so every query runs against both; both keep fields outside the schema), a
// paginated SQLite service with multi off and a strict schema,
// a memory service without a schema (query values stay strings), and a service that exposes
// only find and get.
'use strict';

const path = require('node:path');

const peopleSchema = `
      name: { type: string, required: true }
      age: { type: integer }
      score: { type: number }
      active: { type: boolean }
      city: { type: string }`;

module.exports = (dir) => `
name: compat
host: 127.0.0.1
port: 3030
databases:
  main: sqlite://${path.join(dir, 'compat.db')}
services:
  people:
    database: memory
    schema:${peopleSchema}
    additionalProperties: true
    multi: true
  sqlpeople:
    database: main
    schema:${peopleSchema}
    additionalProperties: true
    multi: [create, patch, remove]
  pages:
    database: main
    schema:
      title: { type: string, required: true }
      rank: { type: integer }
    paginate: { default: 3, max: 5 }
    multi: false
  notes:
    database: memory
  locked:
    database: memory
    methods: [find, get]
`;
