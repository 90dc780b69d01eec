// Shared set-up for the end-to-end client tests: where the server is and who we are.
// test.sh starts a throwaway LearnerVault server and sets these; run by hand with
//   LV_E2E_ENDPOINT=http://127.0.0.1:8080/xapi/ LV_E2E_KEY=... LV_E2E_SECRET=... node --test
import { randomUUID } from 'node:crypto';

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: the end-to-end tests need a running server (see test.sh)`);
  }
  return value;
}

export const endpoint = required('LV_E2E_ENDPOINT').replace(/\/?$/, '/');
export const key = required('LV_E2E_KEY');
export const secret = required('LV_E2E_SECRET');

// A run-unique suffix, so that tests never see each other's data (or a previous run's).
export const run = randomUUID();

export function learner(label) {
  return { objectType: 'Agent', name: `E2E ${label}`, mbox: `mailto:${label}.${run}@example.org` };
}

export function activityId(label) {
  return `https://example.org/e2e/${run}/${label}`;
}

export const verbs = {
  experienced: { id: 'http://adlnet.gov/expapi/verbs/experienced', display: { 'en-US': 'experienced' } },
  completed: { id: 'http://adlnet.gov/expapi/verbs/completed', display: { 'en-US': 'completed' } },
  attempted: { id: 'http://adlnet.gov/expapi/verbs/attempted', display: { 'en-US': 'attempted' } },
};

// The fields a client sent, as the LRS must hand them back (it adds stored, authority, version, ...).
export function sentPart(sent, received) {
  const picked = {};
  for (const name of Object.keys(sent)) picked[name] = received[name];
  return picked;
}
