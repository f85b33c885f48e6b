// Secret values never leave the controller, and hostile ECS messages stay bounded and clean: a
// running operator with planted credentials (good, rejected by ECS, huge, non-UTF-8, with a
// control character, under wrong key names), everything it writes scanned for them.
import assert from 'node:assert/strict';
import { sharedCluster } from '../support/global-cluster.ts';
import type { TestCluster } from '../support/cluster.ts';
import { startEcsEmulator, type EcsEmulator } from '../support/ecs-emulator/index.ts';
import { Resources, cond, sleep, startOperator, type RunningOperator } from '../support/operator-harness.ts';
import { GROUP, PLURAL, VERSION } from '../../src/api/types.ts';

const NS = 'it-secrets';
const RECHECK_MS = 2_000;
const P = {
  secret: 'PLANTED-good-secret-4f1d9c0a7b',
  stsSecret: 'PLANTED-sts-secret-0e7a2b9d11',
  stsToken: 'PLANTED-sts-token-c3a5e8f27d',
  wrong: 'PLANTED-wrong-secret-7c29d4e1aa',
  huge: 'PLANTED-huge-secret-91b0c7d3e2',
  nonUtf8: 'PLANTED-non-utf8-secret-5d8e2f',
  control: 'PLANTED-control-secret-a81c4b',
  keyNames: 'PLANTED-wrong-key-names-6b3f0d',
};
/** C0 and C1 control characters except tab and newline. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('secrets never leak; hostile ECS messages stay bounded', function () {
  this.timeout(60_000);
  let cluster: TestCluster;
  let emu: EcsEmulator;
  let op: RunningOperator;
  let res: Resources;

  const secret = async (name: string, values: Record<string, string | Buffer>): Promise<void> => {
    const data = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    await res.core.createNamespacedSecret({ namespace: NS, body: { metadata: { name, namespace: NS }, data } });
  };

  /** Everything the controller wrote or exposes: logs, events, status, metrics. */
  const everything = async (): Promise<Record<string, string>> => {
    const events = await res.core.listNamespacedEvent({ namespace: NS });
    const list = await res.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: PLURAL });
    return {
      logs: op.logs.join('\n'),
      events: JSON.stringify(events.items),
      status: JSON.stringify((list as { items: Array<{ status?: unknown }> }).items.map((o) => o.status)),
      metrics: await op.metricsText(),
    };
  };

  before(async function () {
    this.timeout(240_000);
    cluster = await sharedCluster();
    await cluster.kubectl(['create', 'namespace', NS]);
    emu = await startEcsEmulator({
      stopMs: 300,
      forceStopMs: 100,
      startMs: 300,
      accessKeys: [
        { accessKeyId: 'test-ak', accessKeySecret: 'test-secret' },
        { accessKeyId: 'planted-ak', accessKeySecret: P.secret },
        { accessKeyId: 'sts-ak', accessKeySecret: P.stsSecret, securityToken: P.stsToken },
      ],
    });
    // debug: the most verbose logs are scanned too
    op = await startOperator(cluster, emu, { namespace: NS, terminalRecheckMs: RECHECK_MS, logLevel: 'debug' });
    res = new Resources(cluster.kubeConfig(), NS);
  });

  after(async () => {
    await op?.stop();
    await emu?.close();
    await cluster?.kubectl(['delete', 'namespace', NS, '--wait=false']);
  });

  it('planted credentials (used, rejected, huge, non-UTF-8, control character, wrong key names) appear nowhere', async () => {
    await secret('good', { accessKeyId: 'planted-ak', accessKeySecret: P.secret });
    await secret('sts', { accessKeyId: 'sts-ak', accessKeySecret: P.stsSecret, securityToken: P.stsToken });
    await secret('wrong', { accessKeyId: 'planted-ak', accessKeySecret: P.wrong });
    await secret('huge', { accessKeyId: 'planted-ak', accessKeySecret: P.huge + 'A'.repeat(1_000_000) });
    await secret('non-utf8', { accessKeyId: 'planted-ak', accessKeySecret: Buffer.concat([Buffer.from(P.nonUtf8), Buffer.from([0xff, 0xfe, 0xc3, 0x28])]) });
    await secret('control', { accessKeyId: 'planted-ak', accessKeySecret: `${P.control}\u0007\u001b[0m` });
    await secret('key-names', { access_key_id: 'planted-ak', access_key_secret: P.keyNames });

    const cases: Array<[string, RegExp | undefined]> = [
      ['good', undefined],
      ['sts', undefined],
      ['wrong', /^SignatureDoesNotMatch: .* \(RequestId [^)]+\)$/s],
      ['huge', /^InvalidCredentials: credentials Secret it-secrets\/huge key accessKeySecret is not a valid credential/],
      ['non-utf8', /^InvalidCredentials: credentials Secret it-secrets\/non-utf8 key accessKeySecret is not valid UTF-8$/],
      ['control', /^InvalidCredentials: credentials Secret it-secrets\/control key accessKeySecret is not a valid credential/],
      ['key-names', /^InvalidCredentials: credentials Secret it-secrets\/key-names has no key accessKeyId$/],
    ];
    for (const [name] of cases) {
      emu.addInstance({ instanceId: `i-sec${name.replace(/[^a-z0-9]/g, '')}`, regionId: 'cn-hangzhou' });
      await res.create(name, { instanceId: `i-sec${name.replace(/[^a-z0-9]/g, '')}`, credentialsSecretRef: { name } });
    }
    for (const [name, message] of cases) {
      if (!message) {
        await res.waitForReady(name, 'Stopped');
        continue;
      }
      const o = await res.waitForReason(name, 'Stalled', 'True', 'InvalidCredentials');
      assert.match(cond(o, 'Stalled')!.message, message);
    }
    // The good keys really signed the calls.
    assert.ok(emu.calls.some((c) => c.accessKeyId === 'planted-ak' && c.action === 'StopInstance' && c.code === 'OK'));
    assert.ok(emu.calls.some((c) => c.accessKeyId === 'sts-ak' && c.action === 'StopInstance' && c.code === 'OK'));

    await sleep(2 * RECHECK_MS + 500); // let the terminal ones be re-checked (and logged) again
    const out = await everything();
    const hits: string[] = [];
    for (const [what, value] of Object.entries(P)) {
      for (const form of [value, Buffer.from(value).toString('base64').slice(0, 24)]) {
        for (const [where, text] of Object.entries(out)) if (text.includes(form)) hits.push(`${what} (${form === value ? 'raw' : 'base64'}) in ${where}`);
      }
    }
    assert.deepEqual(hits, [], 'planted secret values leaked');
    console.log(
      `\n  Secret scan: ${Object.keys(P).length} planted values (raw and base64) x ${Object.keys(out).length} outputs ` +
        `(${op.logs.length} log lines, ${out['events']!.length} B events, ${out['status']!.length} B status, ${out['metrics']!.length} B metrics): ${hits.length} hits\n`,
    );
  });

  it('an ECS error message of 1 MB: the condition and event messages stay within 1024 characters and keep the RequestId', async () => {
    const big = 'E'.repeat(1_000_000);
    emu.addInstance({ instanceId: 'i-bigtransient', regionId: 'cn-hangzhou' });
    emu.addInstance({ instanceId: 'i-bigterminal', regionId: 'cn-hangzhou' });
    emu.injectFault({ action: 'StopInstance', instanceId: 'i-bigtransient', code: 'InternalError', message: big, count: Infinity });
    emu.injectFault({ action: 'StopInstance', instanceId: 'i-bigterminal', code: 'Forbidden.RAM', message: big, count: Infinity });
    await res.create('big-transient', { instanceId: 'i-bigtransient', confirmStop: true });
    await res.create('big-terminal', { instanceId: 'i-bigterminal', confirmStop: true });
    const t = await res.waitForReason('big-transient', 'Reconciling', 'True', 'InternalError');
    const s = await res.waitForReason('big-terminal', 'Stalled', 'True', 'Forbidden');
    await sleep(500);
    for (const o of [t, s]) {
      for (const c of o.status?.conditions ?? []) {
        assert.ok(c.message.length <= 1024, `${c.type} message has ${c.message.length} characters`);
      }
      const m = /^(InternalError|Forbidden\.RAM): E+… \(RequestId ([^)]+)\)$/.exec(cond(o, 'Ready')!.message);
      assert.ok(m, cond(o, 'Ready')!.message.slice(-100));
      assert.ok(emu.calls.some((c) => c.requestId === m[2]), 'RequestId answered by the emulator');
    }
    const events = (await res.core.listNamespacedEvent({ namespace: NS })).items.filter((e) => ['big-transient', 'big-terminal'].includes(e.involvedObject.name ?? ''));
    assert.ok(events.some((e) => e.type === 'Warning'));
    for (const e of events) assert.ok((e.message ?? '').length <= 1024, `event message has ${(e.message ?? '').length} characters`);
    const longest = Math.max(...op.logs.map((l) => l.length));
    assert.ok(longest < 4096, `a log line of ${longest} characters`);
    emu.clearFaults();
    await res.delete('big-transient');
    await res.delete('big-terminal');
  });

  it('an ECS error message with control characters and a lone surrogate: the condition message is clean, valid text', async () => {
    const hostile = 'conflict\u0000with\u0007 another\u001b[31m operation\r\n next line\u0085 \ud800 \u009b2J end';
    emu.addInstance({ instanceId: 'i-ctrl', regionId: 'cn-hangzhou' });
    emu.injectFault({ action: 'StopInstance', instanceId: 'i-ctrl', code: 'OperationConflict', message: hostile, count: Infinity });
    await res.create('ctrl', { instanceId: 'i-ctrl', confirmStop: true });
    const o = await res.waitForReason('ctrl', 'Reconciling', 'True', 'OperationConflict');
    await sleep(500);
    const texts = [
      ...(o.status?.conditions ?? []).map((c) => c.message),
      ...(await res.events('ctrl')).map((e) => e.message ?? ''),
    ];
    for (const m of texts) {
      assert.equal(CONTROL.test(m), false, `control character in ${JSON.stringify(m)}`);
      assert.ok(m.isWellFormed(), `not well-formed: ${JSON.stringify(m)}`);
    }
    assert.match(cond(o, 'Ready')!.message, /^OperationConflict: conflict with +another.*end \(RequestId [^)]+\)$/s);
    emu.clearFaults();
    await res.waitForReady('ctrl', 'Stopped', 15_000);
  });
});
