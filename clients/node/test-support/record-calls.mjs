// Preloaded with `node --import` by the seed-example test: wraps
// RingnityServerApi.create so that every helper call the example makes is
// recorded with its arguments and what it resolved or rejected with, and
// writes the record as JSON to $RINGNITY_RECORD_FILE when the process exits.
// The example itself runs unchanged; it imports '@ringnity/server-api', which
// resolves (package self-reference) to the same module instance as below.
import { writeFileSync } from 'node:fs';
import { RingnityServerApi } from '../src/index.js';

const calls = [];
const GROUPS = ['system', 'account', 'tokens', 'contacts', 'reports', 'webhooks'];
const create = RingnityServerApi.create;

RingnityServerApi.create = function recordingCreate(...args) {
  const api = create.apply(this, args);
  for (const group of GROUPS) api[group] = instrument(group, api[group]);
  return api;
};

function instrument(group, methods) {
  const wrapped = {};
  for (const [name, fn] of Object.entries(methods)) {
    wrapped[name] = async (...args) => {
      const entry = { call: `${group}.${name}`, args };
      calls.push(entry);
      try {
        entry.value = await fn(...args);
        return entry.value;
      } catch (err) {
        entry.error = { name: err.name, status: err.status, code: err.code, message: err.message };
        throw err;
      }
    };
  }
  return wrapped;
}

process.on('exit', () => {
  if (process.env.RINGNITY_RECORD_FILE) {
    writeFileSync(process.env.RINGNITY_RECORD_FILE, JSON.stringify(calls, null, 2));
  }
});
