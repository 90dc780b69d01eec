// tincanjs (npm, 0.50.0) against a running LearnerVault server. TinCanJS speaks xAPI 1.0.2, which the
// server serves as 1.0.3.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { endpoint, key, secret, learner, activityId, verbs } from './env.mjs';

const TinCan = createRequire(import.meta.url)('tincanjs');
// TinCanJS logs every call to the console when debug is on; keep the test output readable.
TinCan.DEBUG = false;

const lrs = new TinCan.LRS({ endpoint, username: key, password: secret, allowFail: false });

// TinCanJS reports through node-style callbacks; err is the HTTP status (or an exception).
function call(method, ...args) {
  return new Promise((resolve, reject) => {
    const cfg = args.pop() ?? {};
    lrs[method](...args, {
      ...cfg,
      callback: (err, result) => {
        if (err !== null && err !== undefined) {
          const error = new Error(`${method} failed: ${err}${result?.responseText ? ` ${result.responseText}` : ''}`);
          error.status = typeof err === 'number' ? err : result?.status;
          reject(error);
        } else {
          resolve(result);
        }
      },
    });
  });
}

async function rejectsWithStatus(promise, status) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.status, status, error.message);
    return true;
  });
}

function statement(actor, label, extra = {}) {
  return new TinCan.Statement({
    id: randomUUID(),
    actor,
    verb: verbs.completed,
    target: { id: activityId(label), definition: { name: { 'en-US': label } } },
    result: { completion: true, success: true, score: { raw: 42, min: 0, max: 50 } },
    ...extra,
  });
}

function plain(stmt) {
  const json = stmt.asVersion('1.0.0');
  return JSON.parse(JSON.stringify(json));
}

describe('tincanjs', () => {
  test('the library speaks a 1.0.x version the server accepts', () => {
    assert.match(lrs.version, /^1\.0\.\d$/);
  });

  test('about lists the served versions', async () => {
    const about = await call('about', {});
    assert.ok(about.version.includes('2.0.0'), `versions: ${about.version}`);
    assert.ok(about.version.includes('1.0.3'), `versions: ${about.version}`);
  });

  test('a single statement is stored and read back equal', async () => {
    const sent = statement(learner('tc-single'), 'tc-single', { context: { registration: randomUUID() } });
    const xhr = await call('saveStatement', sent, {});
    assert.ok(xhr.status === 200 || xhr.status === 204, `status ${xhr.status}`);

    const back = await call('retrieveStatement', sent.id, {});
    assert.equal(back.id, sent.id);
    const expected = plain(sent);
    const actual = plain(back);
    for (const name of ['id', 'actor', 'verb', 'object', 'result', 'context']) {
      assert.deepEqual(actual[name], expected[name], name);
    }
    assert.ok(back.stored, 'stored is set');
  });

  test('a batch is stored and paging with moreStatements returns every statement exactly once', async () => {
    const actor = learner('tc-batch');
    const label = 'tc-batch';
    const batch = Array.from({ length: 7 }, () => statement(actor, label));
    const xhr = await call('saveStatements', batch, {});
    assert.deepEqual(JSON.parse(xhr.responseText), batch.map((s) => s.id));

    const seen = [];
    let result = await call('queryStatements', {
      params: { agent: new TinCan.Agent(actor), activity: new TinCan.Activity({ id: activityId(label) }), limit: 2 },
    });
    let pages = 1;
    seen.push(...result.statements.map((s) => s.id));
    while (result.more) {
      assert.ok(pages < 10, 'too many pages');
      result = await call('moreStatements', { url: result.more });
      pages += 1;
      seen.push(...result.statements.map((s) => s.id));
    }
    assert.ok(pages >= 4, `7 statements at 2 a page come in at least 4 pages, got ${pages}`);
    assert.equal(seen.length, new Set(seen).size, 'no statement twice');
    assert.deepEqual([...seen].sort(), batch.map((s) => s.id).sort());
  });

  test('a voided statement is hidden from queries and readable by voidedStatementId', async () => {
    const actor = learner('tc-void');
    const target = statement(actor, 'tc-void');
    await call('saveStatement', target, {});
    const voiding = new TinCan.Statement({
      id: randomUUID(),
      actor,
      verb: { id: 'http://adlnet.gov/expapi/verbs/voided', display: { 'en-US': 'voided' } },
      target: new TinCan.StatementRef({ id: target.id }),
    });
    await call('saveStatement', voiding, {});

    const voided = await call('retrieveVoidedStatement', target.id, {});
    assert.equal(voided.id, target.id);
    assert.deepEqual(plain(voided).object, plain(target).object);
    await rejectsWithStatus(call('retrieveStatement', target.id, {}), 404);

    const result = await call('queryStatements', { params: { agent: new TinCan.Agent(actor) } });
    const ids = result.statements.map((s) => s.id);
    assert.deepEqual(ids, [voiding.id], 'only the voiding statement is listed');
  });

  test('state: round trip with ETag, stale ETag refused, delete', async () => {
    const agent = new TinCan.Agent(learner('tc-state'));
    const activity = new TinCan.Activity({ id: activityId('tc-state') });
    const registration = randomUUID();
    const where = { agent, activity, registration };

    await call('saveState', 'location', { slide: 4 }, { ...where, contentType: 'application/json' });
    const first = await call('retrieveState', 'location', where);
    assert.deepEqual(first.contents, { slide: 4 });
    assert.ok(first.etag, 'ETag on the state document');

    await call('saveState', 'location', { slide: 5 }, { ...where, contentType: 'application/json', lastSHA1: first.etag });
    await rejectsWithStatus(
      call('saveState', 'location', { slide: 6 }, { ...where, contentType: 'application/json', lastSHA1: first.etag }), 412);
    const second = await call('retrieveState', 'location', where);
    assert.deepEqual(second.contents, { slide: 5 });
    assert.notEqual(second.etag, first.etag);

    // A non-JSON document comes back as the same text.
    await call('saveState', 'notes', 'free text, not JSON', { ...where, contentType: 'text/plain' });
    const notes = await call('retrieveState', 'notes', where);
    assert.equal(notes.contents, 'free text, not JSON');

    const ids = await call('retrieveStateIds', where);
    assert.deepEqual([...ids].sort(), ['location', 'notes']);

    await call('dropState', 'location', where);
    assert.equal(await call('retrieveState', 'location', where), null, 'deleted state reads as absent');
    await call('dropState', null, where);
    assert.deepEqual(await call('retrieveStateIds', where), []);
  });

  test('activity profile: round trip with ETag, stale ETag refused, delete', async () => {
    const activity = new TinCan.Activity({ id: activityId('tc-aprofile') });
    await call('saveActivityProfile', 'config', { mode: 'exam' }, { activity, contentType: 'application/json' });
    const first = await call('retrieveActivityProfile', 'config', { activity });
    assert.deepEqual(first.contents, { mode: 'exam' });
    assert.ok(first.etag);

    await call('saveActivityProfile', 'config', { mode: 'practice' },
      { activity, contentType: 'application/json', lastSHA1: first.etag });
    await rejectsWithStatus(call('saveActivityProfile', 'config', { mode: 'other' },
      { activity, contentType: 'application/json', lastSHA1: first.etag }), 412);
    const second = await call('retrieveActivityProfile', 'config', { activity });
    assert.deepEqual(second.contents, { mode: 'practice' });

    assert.deepEqual(await call('retrieveActivityProfileIds', { activity }), ['config']);
    await call('dropActivityProfile', 'config', { activity });
    assert.equal(await call('retrieveActivityProfile', 'config', { activity }), null);
  });

  test('agent profile: round trip with ETag, stale ETag refused, delete', async () => {
    const agent = new TinCan.Agent(learner('tc-gprofile'));
    await call('saveAgentProfile', 'prefs', { captions: true }, { agent, contentType: 'application/json' });
    const first = await call('retrieveAgentProfile', 'prefs', { agent });
    assert.deepEqual(first.contents, { captions: true });
    assert.ok(first.etag);

    await call('saveAgentProfile', 'prefs', { captions: false },
      { agent, contentType: 'application/json', lastSHA1: first.etag });
    await rejectsWithStatus(call('saveAgentProfile', 'prefs', { captions: true },
      { agent, contentType: 'application/json', lastSHA1: first.etag }), 412);
    const second = await call('retrieveAgentProfile', 'prefs', { agent });
    assert.deepEqual(second.contents, { captions: false });

    assert.deepEqual(await call('retrieveAgentProfileIds', { agent }), ['prefs']);
    await call('dropAgentProfile', 'prefs', { agent });
    assert.equal(await call('retrieveAgentProfile', 'prefs', { agent }), null);
  });

  test('an attachment is sent as multipart and read back byte-equal with attachments=true', async () => {
    // tincanjs in Node turns the multipart body it built into a string before sending it
    // (`cfg.data += ""` in its _makeRequest), so only content that is valid UTF-8 survives its way
    // out: use multi-byte UTF-8 text with CR, LF and a run-unique tail. (Arbitrary binary content is
    // covered by the server's own tests, not through this client.)
    const bytes = new Uint8Array(Buffer.from(`line one\r\nline two \u00e9\u00fc\u2713\n\ud83d\ude80 ${randomUUID()}\r\n`, 'utf8'));
    const content = bytes.buffer;
    const sha2 = createHash('sha256').update(bytes).digest('hex');

    const sent = statement(learner('tc-attach'), 'tc-attach', {
      attachments: [new TinCan.Attachment({
        usageType: 'http://id.tincanapi.com/attachment/supporting_media',
        display: { 'en-US': 'e2e binary' },
        contentType: 'application/octet-stream',
        content,
      })],
    });
    assert.equal(sent.attachments[0].sha2, sha2);
    await call('saveStatement', sent, {});

    const back = await call('retrieveStatement', sent.id, { params: { attachments: true } });
    assert.equal(back.id, sent.id);
    assert.equal(back.attachments.length, 1);
    const attachment = back.attachments[0];
    assert.equal(attachment.sha2, sha2);
    assert.equal(attachment.length, bytes.byteLength);
    assert.ok(attachment.content, 'attachment content came back');
    assert.ok(Buffer.from(attachment.content).equals(Buffer.from(bytes)), 'attachment bytes equal');

    const listed = await call('queryStatements', {
      params: { agent: new TinCan.Agent(learner('tc-attach')), attachments: true },
    });
    const fromQuery = listed.statements.find((s) => s.id === sent.id);
    assert.ok(fromQuery, 'statement listed by the query');
    assert.ok(Buffer.from(fromQuery.attachments[0].content).equals(Buffer.from(bytes)), 'query attachment bytes equal');
  });
});
