// @xapi/xapi (npm, 3.0.3) against a running LearnerVault server.
// Both of its HTTP adapters are exercised: axios (its default) and fetch (the only one that can send
// multipart attachments from Node, so the attachment test uses it).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import XAPI from '@xapi/xapi';
import { endpoint, key, secret, learner, activityId, verbs, sentPart } from './env.mjs';

function client(adapter, version) {
  return new XAPI({ endpoint, auth: XAPI.toBasicAuth(key, secret), adapter, version });
}

// axios errors carry the status; the fetch adapter throws Error(response text) only.
async function rejectsWithStatus(promise, status) {
  let error;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  assert.ok(error, `expected the request to fail with ${status}`);
  if (error.response) assert.equal(error.response.status, status);
}

function statementAbout(actor, label, extra = {}) {
  return {
    id: randomUUID(),
    actor,
    verb: verbs.experienced,
    object: { objectType: 'Activity', id: activityId(label), definition: { name: { 'en-US': label } } },
    ...extra,
  };
}

for (const [adapter, version] of [['axios', '1.0.3'], ['fetch', '2.0.0']]) {
  describe(`@xapi/xapi (${adapter} adapter, xAPI ${version})`, () => {
    const xapi = client(adapter, version);
    const tag = `${adapter}-${version}`;

    test('about lists the served versions', async () => {
      const { data, status } = await xapi.getAbout();
      assert.equal(status, 200);
      assert.ok(Array.isArray(data.version));
      assert.ok(data.version.includes('2.0.0'), `versions: ${data.version}`);
      assert.ok(data.version.includes('1.0.3'), `versions: ${data.version}`);
    });

    test('a single statement is stored and read back equal', async () => {
      const statement = statementAbout(learner(`single-${tag}`), `single-${tag}`, {
        result: { success: true, completion: true, score: { scaled: 0.75 } },
        context: { registration: randomUUID(), language: 'en-US' },
      });
      const sent = await xapi.sendStatement({ statement });
      assert.deepEqual(sent.data, [statement.id]);

      const { data: back } = await xapi.getStatement({ statementId: statement.id });
      assert.deepEqual(sentPart(statement, back), statement);
      assert.ok(back.stored, 'stored is set');
      assert.ok(back.authority, 'authority is set');
    });

    test('a statement without id gets one from the server', async () => {
      const { id, ...statement } = statementAbout(learner(`noid-${tag}`), `noid-${tag}`);
      const { data: ids } = await xapi.sendStatement({ statement });
      assert.equal(ids.length, 1);
      assert.match(ids[0], /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
      const { data: back } = await xapi.getStatement({ statementId: ids[0] });
      assert.equal(back.id, ids[0]);
      assert.deepEqual(back.object.id, statement.object.id);
    });

    test('a batch is stored in order, and paging with more returns every statement exactly once', async () => {
      const actor = learner(`batch-${tag}`);
      const label = `batch-${tag}`;
      const statements = Array.from({ length: 7 }, () => statementAbout(actor, label));
      const { data: ids } = await xapi.sendStatements({ statements });
      assert.deepEqual(ids, statements.map((s) => s.id));

      const seen = [];
      let page = (await xapi.getStatements({ agent: actor, activity: activityId(label), limit: 3 })).data;
      let pages = 1;
      seen.push(...page.statements.map((s) => s.id));
      while (page.more) {
        assert.ok(pages < 10, 'too many pages');
        page = (await xapi.getMoreStatements({ more: page.more })).data;
        pages += 1;
        seen.push(...page.statements.map((s) => s.id));
      }
      assert.ok(pages >= 3, `7 statements at 3 a page come in at least 3 pages, got ${pages}`);
      assert.equal(seen.length, new Set(seen).size, 'no statement twice');
      assert.deepEqual([...seen].sort(), [...ids].sort());
      for (const s of statements) {
        const { data: back } = await xapi.getStatement({ statementId: s.id });
        assert.deepEqual(sentPart(s, back), s);
      }
    });

    test('a voided statement is hidden from queries and readable by voidedStatementId', async () => {
      const actor = learner(`void-${tag}`);
      const label = `void-${tag}`;
      const target = statementAbout(actor, label);
      const keeper = statementAbout(actor, label);
      await xapi.sendStatements({ statements: [target, keeper] });

      const { data: voidIds } = await xapi.voidStatement({ actor, statementId: target.id });
      assert.equal(voidIds.length, 1);

      const { data: voided } = await xapi.getVoidedStatement({ voidedStatementId: target.id });
      assert.deepEqual(sentPart(target, voided), target);
      await rejectsWithStatus(xapi.getStatement({ statementId: target.id }), 404);

      const { data: query } = await xapi.getStatements({ agent: actor });
      const found = query.statements.map((s) => s.id);
      assert.ok(!found.includes(target.id), 'voided statement hidden from the query');
      assert.ok(found.includes(keeper.id), 'other statement still listed');
      assert.ok(found.includes(voidIds[0]), 'voiding statement listed');
      const voiding = query.statements.find((s) => s.id === voidIds[0]);
      assert.deepEqual(voiding.object, { objectType: 'StatementRef', id: target.id });
    });

    test('state: round trip, ETag preconditions, merge, ids, delete', async () => {
      const agent = learner(`state-${tag}`);
      const activity = activityId(`state-${tag}`);
      const registration = randomUUID();
      const where = { agent, activityId: activity, registration };

      await xapi.setState({ ...where, stateId: 'bookmark', state: { page: 1 }, etag: '*', matchHeader: 'If-None-Match' });
      const first = await xapi.getState({ ...where, stateId: 'bookmark' });
      assert.deepEqual(first.data, { page: 1 });
      const etag = first.headers.etag;
      assert.ok(etag, 'ETag on the state document');

      await rejectsWithStatus(
        xapi.setState({ ...where, stateId: 'bookmark', state: { page: 9 }, etag: '*', matchHeader: 'If-None-Match' }), 412);
      await xapi.setState({ ...where, stateId: 'bookmark', state: { page: 2 }, etag, matchHeader: 'If-Match' });
      await rejectsWithStatus(
        xapi.setState({ ...where, stateId: 'bookmark', state: { page: 3 }, etag, matchHeader: 'If-Match' }), 412);
      const second = await xapi.getState({ ...where, stateId: 'bookmark' });
      assert.deepEqual(second.data, { page: 2 });
      assert.notEqual(second.headers.etag, etag);

      await xapi.createState({ ...where, stateId: 'bookmark', state: { chapter: 'two' },
        etag: second.headers.etag, matchHeader: 'If-Match' });
      const merged = await xapi.getState({ ...where, stateId: 'bookmark' });
      assert.deepEqual(merged.data, { page: 2, chapter: 'two' });

      await xapi.setState({ ...where, stateId: 'progress', state: { done: 0.5 }, etag: '*', matchHeader: 'If-None-Match' });
      const ids = (await xapi.getStates(where)).data;
      assert.deepEqual([...ids].sort(), ['bookmark', 'progress']);

      await xapi.deleteState({ ...where, stateId: 'progress' });
      assert.deepEqual((await xapi.getStates(where)).data, ['bookmark']);
      await xapi.deleteStates(where);
      assert.deepEqual((await xapi.getStates(where)).data, []);
      await rejectsWithStatus(xapi.getState({ ...where, stateId: 'bookmark' }), 404);
    });

    test('activity profile: round trip with ETag, merge, ids, delete', async () => {
      const activity = activityId(`aprofile-${tag}`);
      await xapi.setActivityProfile({ activityId: activity, profileId: 'settings', profile: { difficulty: 'hard' },
        etag: '*', matchHeader: 'If-None-Match' });
      const first = await xapi.getActivityProfile({ activityId: activity, profileId: 'settings' });
      assert.deepEqual(first.data, { difficulty: 'hard' });
      assert.ok(first.headers.etag);

      await rejectsWithStatus(xapi.setActivityProfile({ activityId: activity, profileId: 'settings',
        profile: { difficulty: 'easy' }, etag: '"0000"', matchHeader: 'If-Match' }), 412);
      await xapi.setActivityProfile({ activityId: activity, profileId: 'settings', profile: { difficulty: 'easy' },
        etag: first.headers.etag, matchHeader: 'If-Match' });
      const second = await xapi.getActivityProfile({ activityId: activity, profileId: 'settings' });
      assert.deepEqual(second.data, { difficulty: 'easy' });

      await xapi.createActivityProfile({ activityId: activity, profileId: 'settings', profile: { sound: false },
        etag: second.headers.etag, matchHeader: 'If-Match' });
      const merged = await xapi.getActivityProfile({ activityId: activity, profileId: 'settings' });
      assert.deepEqual(merged.data, { difficulty: 'easy', sound: false });

      assert.deepEqual((await xapi.getActivityProfiles({ activityId: activity })).data, ['settings']);
      await xapi.deleteActivityProfile({ activityId: activity, profileId: 'settings', etag: merged.headers.etag });
      assert.deepEqual((await xapi.getActivityProfiles({ activityId: activity })).data, []);
    });

    test('agent profile: round trip with ETag, merge, ids, delete', async () => {
      const agent = learner(`gprofile-${tag}`);
      await xapi.setAgentProfile({ agent, profileId: 'preferences', profile: { theme: 'dark' },
        etag: '*', matchHeader: 'If-None-Match' });
      const first = await xapi.getAgentProfile({ agent, profileId: 'preferences' });
      assert.deepEqual(first.data, { theme: 'dark' });
      assert.ok(first.headers.etag);

      await rejectsWithStatus(xapi.setAgentProfile({ agent, profileId: 'preferences', profile: { theme: 'light' },
        etag: '"0000"', matchHeader: 'If-Match' }), 412);
      await xapi.createAgentProfile({ agent, profileId: 'preferences', profile: { language: 'en' },
        etag: first.headers.etag, matchHeader: 'If-Match' });
      const merged = await xapi.getAgentProfile({ agent, profileId: 'preferences' });
      assert.deepEqual(merged.data, { theme: 'dark', language: 'en' });
      assert.notEqual(merged.headers.etag, first.headers.etag);

      assert.deepEqual((await xapi.getAgentProfiles({ agent })).data, ['preferences']);
      await xapi.deleteAgentProfile({ agent, profileId: 'preferences', etag: merged.headers.etag });
      assert.deepEqual((await xapi.getAgentProfiles({ agent })).data, []);
    });

    if (adapter === 'fetch') {
      test('an attachment is sent as multipart and read back byte-equal with attachments=true', async () => {
        // @xapi/xapi parses a multipart response as text, one line per part body: keep the content
        // a single line without surrounding white space so that its parser can hand it back intact.
        const text = `LearnerVault e2e attachment ${randomUUID()} caf\u00e9 \u2713`;
        const content = new TextEncoder().encode(text);
        const sha2 = createHash('sha256').update(content).digest('hex');
        const statement = statementAbout(learner(`attach-${tag}`), `attach-${tag}`, {
          attachments: [{
            usageType: 'http://id.tincanapi.com/attachment/supporting_media',
            display: { 'en-US': 'e2e note' },
            contentType: 'text/plain',
            length: content.byteLength,
            sha2,
          }],
        });
        const { data: ids } = await xapi.sendStatement({ statement, attachments: [content.buffer] });
        assert.deepEqual(ids, [statement.id]);

        const { data: parts, headers } = await xapi.getStatement({ statementId: statement.id, attachments: true });
        assert.match(headers['content-type'], /^multipart\/mixed/);
        assert.equal(parts.length, 2, 'statement part and one attachment part');
        const [back, body] = parts;
        assert.deepEqual(sentPart(statement, back), statement);
        assert.ok(Buffer.from(body, 'utf8').equals(Buffer.from(content)), 'attachment bytes equal');

        const { data: plain } = await xapi.getStatement({ statementId: statement.id });
        assert.deepEqual(plain.attachments, statement.attachments);
      });
    }
  });
}
