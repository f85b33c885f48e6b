import assert from 'node:assert/strict';
import { ApiException, type CoreV1Api } from '@kubernetes/client-node';
import { AggregatingEventRecorder } from '../../src/runtime/event-recorder.ts';
import { silentLogger } from '../../src/log.ts';
import type { EcsInstancePower } from '../../src/api/types.ts';
import { FakeClock } from '../support/fake-clock.ts';

interface Write {
  kind: 'create' | 'patch';
  name: string;
  count: number;
  reason?: string;
  message?: string;
}

function fakeApi(writes: Write[]): CoreV1Api {
  return {
    createNamespacedEvent: async ({ body }: { body: { metadata: { name: string }; count: number; reason: string; message: string } }) => {
      writes.push({ kind: 'create', name: body.metadata.name, count: body.count, reason: body.reason, message: body.message });
      return body;
    },
    patchNamespacedEvent: async ({ name, body }: { name: string; body: { count: number; message: string } }) => {
      writes.push({ kind: 'patch', name, count: body.count, message: body.message });
      return body;
    },
  } as unknown as CoreV1Api;
}

const obj = (name: string): EcsInstancePower => ({
  apiVersion: 'ecspower.io/v1alpha1',
  kind: 'EcsInstancePower',
  metadata: { name, namespace: 'ns', uid: `uid-${name}` },
  spec: { instanceId: 'i-a', regionId: 'cn-hangzhou', desiredState: 'Stopped' },
});

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('AggregatingEventRecorder', () => {
  it('folds repeats of one (object, type, reason) into one Event whose count and message follow, written at most every 30 s', async () => {
    const clock = new FakeClock(1_000_000);
    const writes: Write[] = [];
    const rec = new AggregatingEventRecorder(fakeApi(writes), silentLogger, { component: 'test', clock });
    // Each retry of a failing call carries a new RequestId: still one Event (API.md "Events").
    rec.emit(obj('a'), 'Warning', 'InternalError', 'InternalError: boom (RequestId r0)');
    await settle();
    for (let i = 1; i <= 5; i++) {
      clock.advance(1_000);
      rec.emit(obj('a'), 'Warning', 'InternalError', `InternalError: boom (RequestId r${i})`);
      await settle();
    }
    assert.deepEqual(writes.map((w) => w.kind), ['create'], 'repeats within 30 s wrote again');
    clock.advance(25_000); // 30 s after the Event was created: the repeats so far are written
    await settle();
    assert.deepEqual(writes[1], { kind: 'patch', name: writes[0]!.name, count: 6, message: 'InternalError: boom (RequestId r5)' });
    clock.advance(30_000);
    rec.emit(obj('a'), 'Warning', 'InternalError', 'InternalError: boom (RequestId r6)');
    await settle();
    assert.equal(writes.length, 3);
    assert.deepEqual(writes[2], { kind: 'patch', name: writes[0]!.name, count: 7, message: 'InternalError: boom (RequestId r6)' });
    rec.close();
  });

  it('keeps different reasons, types and objects apart', async () => {
    const clock = new FakeClock(0);
    const writes: Write[] = [];
    const rec = new AggregatingEventRecorder(fakeApi(writes), silentLogger, { component: 'test', clock });
    rec.emit(obj('a'), 'Normal', 'StopRequested', 'm');
    rec.emit(obj('a'), 'Normal', 'Stopped', 'm');
    rec.emit(obj('a'), 'Warning', 'Stopped', 'm');
    rec.emit(obj('b'), 'Normal', 'Stopped', 'm');
    rec.emit(obj('b'), 'Normal', 'Stopped', 'other');
    await settle();
    assert.deepEqual(writes.map((w) => w.kind), ['create', 'create', 'create', 'create']);
  });

  it('an Event the API server let expire is created anew when the streak goes on', async () => {
    const clock = new FakeClock(0);
    const writes: Write[] = [];
    const api = fakeApi(writes);
    (api as unknown as { patchNamespacedEvent: () => Promise<never> }).patchNamespacedEvent = async () => {
      throw new ApiException(404, 'Not Found', {}, {});
    };
    const rec = new AggregatingEventRecorder(api, silentLogger, { component: 'test', clock });
    rec.emit(obj('a'), 'Warning', 'InternalError', 'InternalError: boom (RequestId r0)');
    await settle();
    clock.advance(60_000);
    rec.emit(obj('a'), 'Warning', 'InternalError', 'InternalError: boom (RequestId r1)');
    await settle();
    await settle();
    assert.deepEqual(writes.map((w) => [w.kind, w.count]), [['create', 1], ['create', 2]]);
    assert.notEqual(writes[0]!.name, writes[1]!.name);
  });

  it('drops events over the budget instead of queueing them, and counts the drops', async () => {
    const clock = new FakeClock(0);
    const writes: Write[] = [];
    let dropped = 0;
    const rec = new AggregatingEventRecorder(fakeApi(writes), silentLogger, {
      component: 'test',
      clock,
      qps: 2,
      burst: 5,
      onDropped: () => dropped++,
    });
    for (let i = 0; i < 20; i++) rec.emit(obj(`r${i}`), 'Normal', 'Stopped', 'm');
    await settle();
    assert.equal(writes.length, 5);
    assert.equal(dropped, 15);
    clock.advance(1_000);
    for (let i = 20; i < 25; i++) rec.emit(obj(`r${i}`), 'Normal', 'Stopped', 'm');
    await settle();
    assert.equal(writes.length, 7, 'the budget refills at qps');
  });

  it('never writes a message longer than 1024 characters or with control characters', async () => {
    const writes: Array<{ message: string }> = [];
    const api = {
      createNamespacedEvent: async ({ body }: { body: { message: string } }) => {
        writes.push(body);
        return body;
      },
    } as unknown as CoreV1Api;
    const rec = new AggregatingEventRecorder(api, silentLogger, { component: 'test', clock: new FakeClock(0) });
    rec.emit(obj('a'), 'Warning', 'EcsError', `x\u0000\u001b[31m${'y'.repeat(100_000)}`);
    await settle();
    assert.ok(writes[0]!.message.length <= 1024);
    assert.doesNotMatch(writes[0]!.message, /[\u0000-\u0008\u000b-\u001f]/);
  });
});

describe('AggregatingEventRecorder: the last repeat of a streak', () => {
  it('is written once the minimum interval has passed, even if nothing else is emitted', async () => {
    const clock = new FakeClock(0);
    const writes: Write[] = [];
    const rec = new AggregatingEventRecorder(fakeApi(writes), silentLogger, { component: 'test', clock });
    rec.emit(obj('a'), 'Normal', 'ScheduleTransition', 'from Running to Stopped');
    await settle();
    clock.advance(5_000);
    rec.emit(obj('a'), 'Normal', 'ScheduleTransition', 'from Stopped to Running');
    await settle();
    assert.deepEqual(writes.map((w) => w.kind), ['create']);
    clock.advance(25_000);
    await settle();
    assert.deepEqual(writes[1], { kind: 'patch', name: writes[0]!.name, count: 2, message: 'from Stopped to Running' });
    rec.close();
  });
});
