// `npm run demo`: ecs-power end to end on this machine, nothing to set up.
//
//   1. a local Kubernetes API server (etcd + kube-apiserver 1.20; the first run provisions it,
//      building kube-apiserver from Debian's source for about 5 minutes, with progress);
//   2. the ECS emulator with the instances that deploy/examples/ name (i-demo000001...), each in
//      the opposite of its desired state, accepting the example Secret's placeholder AccessKey;
//   3. the CRD; 4. `kubectl apply -k deploy/examples/`; 5. the controller (in this process);
//   then a live table of the resources converging, and how to point kubectl at the cluster.
//
// Runs until Ctrl-C, then stops everything it started. `--exit-when-ready` exits 0 as soon as every
// resource is Ready=True (a dry run is Ready with reason DryRunSucceeded), 1 after `--timeout`.
//
//   npm run demo
//   npm run demo -- --exit-when-ready --timeout 2m

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { GROUP, PLURAL, VERSION, type EcsInstancePower } from '../src/api/types.ts';
import { parseDuration } from '../src/util/duration.ts';
import { clusterAssets, startTestCluster, type TestCluster } from '../test/support/cluster.ts';
import { startEcsEmulator, type AccessKey, type EcsEmulator } from '../test/support/ecs-emulator/index.ts';
import { startOperator, type RunningOperator } from '../test/support/operator-harness.ts';
import { REPO_ROOT } from '../test/support/process.ts';

const EXAMPLES_DIR = join(REPO_ROOT, 'deploy/examples');
const HELP = `usage: npm run demo [-- [--exit-when-ready] [--timeout DURATION]]

  --exit-when-ready   exit 0 once every EcsInstancePower is Ready (default: run until Ctrl-C)
  --timeout DURATION  with --exit-when-ready: give up (exit 1) this long after the controller
                      started (default 2m; Go-style durations: 90s, 2m)
`;

// ---------------------------------------------------------------------------------------------
// Output

const tty = process.stdout.isTTY === true;
const color = (code: number) => (s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const bold = color(1);
const dim = color(2);
const green = color(32);
const yellow = color(33);
const red = color(31);
const say = (line = ''): void => void process.stdout.write(`${line}\n`);

function since(t0: number): string {
  return `${((Date.now() - t0) / 1000).toFixed(1)} s`;
}

function age(created: string | Date | undefined): string {
  if (!created) return '';
  const s = Math.max(0, Math.floor((Date.now() - new Date(created).getTime()) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  return `${Math.floor(m / 60)}h${m % 60}m`;
}

interface Row {
  name: string;
  instance: string;
  desired: string;
  ecsStatus: string;
  ready: string;
  reason: string;
  age: string;
}

function rowsOf(items: EcsInstancePower[]): Row[] {
  return items
    .map((o) => {
      const ready = o.status?.conditions?.find((c) => c.type === 'Ready');
      const current = ready && o.status?.observedGeneration === o.metadata.generation;
      return {
        name: `${o.metadata.namespace}/${o.metadata.name}`,
        instance: o.spec.instanceId,
        desired: (o.status?.desiredState ?? o.spec.desiredState ?? '?') + sourceNote(o.status?.desiredStateSource) + (o.spec.dryRun ? ' (dry run)' : ''),
        ecsStatus: o.status?.instanceStatus ?? '',
        ready: current ? ready.status : '',
        reason: current ? ready.reason : '',
        age: age(o.metadata.creationTimestamp),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Where the effective desired state comes from, shortly: a schedule or an override. */
function sourceNote(source: string | undefined): string {
  if (!source || source === 'spec') return '';
  const [kind, name] = source.split('/');
  return ` (${kind === 'EcsPowerOverride' ? 'override' : 'schedule'} ${name})`;
}

const HEADERS: Row = { name: 'NAME', instance: 'INSTANCE', desired: 'DESIRED', ecsStatus: 'ECS STATUS', ready: 'READY', reason: 'REASON', age: 'AGE' };
const COLUMNS = Object.keys(HEADERS) as Array<keyof Row>;

function table(rows: Row[]): string[] {
  const width = Object.fromEntries(COLUMNS.map((c) => [c, Math.max(HEADERS[c].length, ...rows.map((r) => r[c].length))])) as Record<keyof Row, number>;
  const line = (r: Row, paint: (c: keyof Row, text: string) => string) =>
    COLUMNS.map((c, i) => paint(c, i === COLUMNS.length - 1 ? r[c] : r[c].padEnd(width[c]))).join('   ').trimEnd();
  return [
    line(HEADERS, (_c, t) => bold(t)),
    ...rows.map((r) =>
      line(r, (c, t) => {
        if (c !== 'ready') return t;
        return r.ready === 'True' ? green(t) : r.ready === 'False' ? yellow(t) : dim(t);
      }),
    ),
  ];
}

function callCounts(emu: EcsEmulator): string {
  const byAction = new Map<string, { total: number; errors: Map<string, number> }>();
  for (const c of emu.calls) {
    const a = byAction.get(c.action) ?? { total: 0, errors: new Map<string, number>() };
    a.total++;
    if (c.code !== 'OK') a.errors.set(c.code, (a.errors.get(c.code) ?? 0) + 1);
    byAction.set(c.action, a);
  }
  if (byAction.size === 0) return 'ECS calls: none yet';
  const parts = [...byAction.entries()]
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([action, a]) => {
      const errs = [...a.errors.entries()].map(([code, n]) => `${n} ${code}`).join(', ');
      return `${action} ${a.total}${errs ? ` (${errs})` : ''}`;
    });
  return `ECS calls: ${parts.join(' · ')}`;
}

/** Redraws a block of lines in place on a terminal; elsewhere prints it when it changes. */
class LiveBlock {
  private drawn = 0;
  private last = '';

  draw(lines: string[], changedKey: string): void {
    if (tty) {
      let out = this.drawn > 0 ? `\x1b[${this.drawn}A\x1b[J` : '';
      out += lines.map((l) => `${l}\n`).join('');
      process.stdout.write(out);
      // a line wider than the terminal takes several rows
      const columns = process.stdout.columns || 80;
      this.drawn = lines.reduce((n, l) => n + Math.max(1, Math.ceil(l.replace(/\x1b\[[0-9;]*m/g, '').length / columns)), 0);
      return;
    }
    if (changedKey === this.last) return;
    this.last = changedKey;
    say(`--- ${new Date().toISOString()}`);
    for (const l of lines) say(l);
  }
}

// ---------------------------------------------------------------------------------------------
// The examples

interface Example {
  kind: string;
  metadata: { name: string };
  spec?: { instanceId: string; regionId: string; desiredState: string };
  stringData?: Record<string, string>;
}

function readExamples(): Example[] {
  const files = readdirSync(EXAMPLES_DIR).filter((f) => /\.ya?ml$/.test(f) && !/^kustomization\.ya?ml$/.test(f));
  return files.flatMap((f) =>
    parseAllDocuments(readFileSync(join(EXAMPLES_DIR, f), 'utf8'))
      .map((d) => d.toJS() as Example | null)
      .filter((o): o is Example => o !== null),
  );
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  let values: { 'exit-when-ready': boolean; timeout: string; help: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        'exit-when-ready': { type: 'boolean', default: false },
        timeout: { type: 'string', default: '2m' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }) as { values: { 'exit-when-ready': boolean; timeout: string; help: boolean } });
  } catch (e) {
    process.stderr.write(`demo: ${e instanceof Error ? e.message : String(e)}\n${HELP}`);
    return 2;
  }
  if (values.help) {
    say(HELP);
    return 0;
  }
  const timeoutMs = parseDuration(values.timeout);
  if (timeoutMs === undefined || timeoutMs <= 0) {
    process.stderr.write(`demo: --timeout: not a duration: ${values.timeout}\n`);
    return 2;
  }

  let cluster: TestCluster | undefined;
  let emu: EcsEmulator | undefined;
  let op: RunningOperator | undefined;
  let stopping = false;
  let interrupted: () => void = () => undefined;
  const interruptedP = new Promise<void>((r) => (interrupted = r));
  const cleanup = async (): Promise<void> => {
    await op?.stop().catch(() => undefined);
    await emu?.close().catch(() => undefined);
    await cluster?.stop().catch(() => undefined);
  };
  const onSignal = (signal: string): void => {
    if (stopping) {
      process.stderr.write('demo: second signal, exiting now\n');
      process.exit(130); // the exit hooks kill etcd and kube-apiserver
    }
    stopping = true;
    process.stdout.write(`\n${signal}: stopping the controller, the ECS emulator and the API server...\n`);
    interrupted();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const orInterrupt = async <T>(p: Promise<T>): Promise<T | 'interrupted'> => Promise.race([p, interruptedP.then(() => 'interrupted' as const)]);

  try {
    const examples = readExamples();
    const powers = examples.filter((o) => o.kind === 'EcsInstancePower' && o.spec);
    const secrets = examples.filter((o) => o.kind === 'Secret' && o.stringData?.['accessKeyId'] && o.stringData['accessKeySecret']);

    say(bold('ecs-power demo') + dim(' (Ctrl-C stops it and everything it started)'));
    say();

    // 1. API server
    let t0 = Date.now();
    say(`${bold('[1/5]')} Local Kubernetes API server (etcd + kube-apiserver 1.20, no kubelet)`);
    say(dim('      The first run provisions it: builds kube-apiserver from Debian\'s source, about 5 minutes;'));
    say(dim('      progress follows. Later runs start it in a few seconds.'));
    const assets = await orInterrupt(clusterAssets());
    if (assets === 'interrupted') return 130;
    const started = startTestCluster({ installCrds: false });
    const startedOrInterrupted = await orInterrupt(started);
    if (startedOrInterrupted === 'interrupted') {
      cluster = await started.catch(() => undefined); // stopped by cleanup()
      return 130;
    }
    cluster = startedOrInterrupted;
    say(`      ${green('ready')} at ${cluster.server} in ${since(t0)}`);

    // 2. ECS emulator
    t0 = Date.now();
    const accessKeys: AccessKey[] = [
      { accessKeyId: 'test-ak', accessKeySecret: 'test-secret' }, // the controller's own (environment) key
      ...secrets.map((s) => ({ accessKeyId: s.stringData!['accessKeyId']!, accessKeySecret: s.stringData!['accessKeySecret']! })),
    ];
    emu = await startEcsEmulator({ stopMs: 3_000, forceStopMs: 800, startMs: 2_000, accessKeys });
    for (const p of powers) {
      // each instance starts in the opposite of its desired state, so that every example has work to do
      emu.addInstance({ instanceId: p.spec!.instanceId, regionId: p.spec!.regionId, status: p.spec!.desiredState === 'Running' ? 'Stopped' : 'Running' });
    }
    for (const id of FLEET) emu.addInstance({ instanceId: id, regionId: 'cn-hangzhou' });
    say(`${bold('[2/5]')} ECS emulator at ${emu.url}: ${emu.instances().sort((a, b) => a.instanceId.localeCompare(b.instanceId)).map((i) => `${i.instanceId} ${i.status}`).join(', ')}`);
    say(dim(`      accepts the controller's key and the example Secret's placeholder AccessKey (${secrets.map((x) => x.metadata.name).join(', ')})`));

    // 3. CRD
    t0 = Date.now();
    const crd = await cluster.kubectl(['apply', '-k', join(REPO_ROOT, 'crds')]);
    if (crd.code !== 0) throw new Error(`kubectl apply -k crds/ failed:\n${crd.stderr}`);
    const established = await cluster.kubectl(['wait', '--for=condition=established', '--timeout=60s', 'crd/ecsinstancepowers.ecspower.io', 'crd/ecspowerschedules.ecspower.io', 'crd/ecspoweroverrides.ecspower.io']);
    if (established.code !== 0) throw new Error(`the CRD did not become Established:\n${established.stderr}`);
    say(`${bold('[3/5]')} CRDs installed and Established (${since(t0)})`);

    // 4. examples
    const applied = await cluster.kubectl(['apply', '-k', EXAMPLES_DIR]);
    if (applied.code !== 0) throw new Error(`kubectl apply -k deploy/examples/ failed:\n${applied.stdout}${applied.stderr}`);
    say(`${bold('[4/5]')} kubectl apply -k deploy/examples/, and a small fleet on a calendar with minute-long windows`);
    for (const l of applied.stdout.trim().split('\n')) say(dim(`      ${l}`));
    const scene = await createFleetScene(cluster);
    say(dim(`      ecspowerschedule.ecspower.io/${SCENE_SCHEDULE}: Running in even minutes, Stopped in odd ones (UTC)`));
    say(dim(`      ${FLEET.length} EcsInstancePowers fleet-1..${FLEET.length} on it; at ${new Date(scene.overrideAt).toISOString().slice(11, 19)}Z an override wakes fleet-1 and fleet-2 for 2 minutes`));

    // 5. controller
    op = await startOperator(cluster, emu, { pollIntervalMs: 500, logLevel: 'info' });
    const controllerStarted = Date.now();
    say(`${bold('[5/5]')} controller running (metrics http://127.0.0.1:${op.operator.metricsPort}/metrics, health http://127.0.0.1:${op.operator.healthPort}/readyz)`);
    say();
    const kubectlHint = onPath('kubectl') ? 'kubectl' : assets.kubectl;
    say(bold('Point kubectl at it') + ' (another terminal, while this runs):');
    say(`  export KUBECONFIG=${cluster.kubeconfigPath}`);
    say(`  ${kubectlHint} get ecspower -A`);
    say(`  ${kubectlHint} describe ecspower web-1-running`);
    say(`  ${kubectlHint} patch ecspower web-1-running --type merge -p '{"spec":{"desiredState":"Stopped"}}'`);
    say(dim(`  # start an instance behind the controller's back (drift; Enforce stops it again, Observe reports Drifted):`));
    say(dim(`  curl -s -X POST ${emu.url}/_emulator/instances/i-demo000001 -d '{"status":"Running"}'`));
    say();

    const custom = cluster.kubeConfig().makeApiClient(CustomObjectsApi);
    const live = new LiveBlock();
    let readyAt: number | undefined;
    let overrideCreated = false;
    for (;;) {
      if (stopping) return 130;
      if (!overrideCreated && Date.now() >= scene.overrideAt) {
        overrideCreated = true;
        await createOverride(cluster).catch((e: unknown) => say(red(`demo: could not create the override: ${e instanceof Error ? e.message : String(e)}`)));
      }
      let items: EcsInstancePower[] = [];
      try {
        const list = (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as { items: EcsInstancePower[] };
        items = list.items;
      } catch {
        // keep the last table
      }
      const rows = rowsOf(items);
      const ready = rows.filter((r) => r.ready === 'True').length;
      const allReady = rows.length > 0 && ready === rows.length;
      if (allReady && readyAt === undefined) readyAt = Date.now();
      if (!allReady) readyAt = undefined;
      const counts = callCounts(emu);
      const state = allReady
        ? green(`All ${rows.length} resources Ready, ${((readyAt! - controllerStarted) / 1000).toFixed(1)} s after the controller started.`)
        : yellow(`${ready}/${rows.length} Ready...`);
      const footer = values['exit-when-ready'] ? '' : dim('Ctrl-C to stop.');
      const lines = [...table(rows), '', counts, state, ...(footer ? [footer] : [])];
      live.draw(lines, JSON.stringify(rows.map(({ age: _a, ...r }) => r)));

      if (values['exit-when-ready']) {
        if (allReady) {
          say(`demo: every EcsInstancePower is Ready (${rows.map((r) => `${r.name}=${r.reason}`).join(', ')})`);
          return 0;
        }
        if (Date.now() - controllerStarted > timeoutMs) {
          say(red(`demo: not every resource became Ready within ${values.timeout}:`));
          for (const r of rows.filter((x) => x.ready !== 'True')) say(red(`  ${r.name}: Ready=${r.ready || 'unknown'} ${r.reason}`));
          return 1;
        }
      }
      if ((await orInterrupt(new Promise((r) => setTimeout(r, 500)))) === 'interrupted') return 130;
    }
  } catch (e) {
    process.stderr.write(`demo: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    await cleanup();
  }
}

// ---------------------------------------------------------------------------------------------
// The calendar scene: a fleet on a schedule whose windows flip every minute, and an override.

const SCENE_SCHEDULE = 'demo-minutes';
const FLEET = ['i-fleet000001', 'i-fleet000002', 'i-fleet000003', 'i-fleet000004'];

const hhmm = (ms: number): string => new Date(ms).toISOString().slice(11, 16);

async function createFleetScene(cluster: TestCluster): Promise<{ overrideAt: number }> {
  const minute = 60_000;
  const first = Math.ceil(Date.now() / minute) * minute;
  // Running in even minutes for the next 100 minutes (50 windows, the schema's maximum).
  const windows = Array.from({ length: 50 }, (_, i) => first + i * minute)
    .map((start) => (Math.floor(start / minute) % 2 === 0 ? start : start + minute))
    .filter((start, i, all) => all.indexOf(start) === i)
    .map((start) => ({ from: hhmm(start), to: hhmm(start + minute) }));
  const docs = [
    { apiVersion: 'ecspower.io/v1alpha1', kind: 'EcsPowerSchedule', metadata: { name: SCENE_SCHEDULE, namespace: 'default' }, spec: { timeZone: 'UTC', running: windows } },
    ...FLEET.map((id, i) => ({
      apiVersion: 'ecspower.io/v1alpha1',
      kind: 'EcsInstancePower',
      metadata: { name: `fleet-${i + 1}`, namespace: 'default', labels: { app: 'demo-fleet', ...(i < 2 ? { wake: 'tonight' } : {}) } },
      spec: { instanceId: id, regionId: 'cn-hangzhou', scheduleRef: { name: SCENE_SCHEDULE }, forceStop: true },
    })),
  ];
  const applied = await cluster.kubectl(['apply', '-f', '-'], { input: docs.map((d) => JSON.stringify(d)).join('\n') });
  if (applied.code !== 0) throw new Error(`creating the calendar scene failed:\n${applied.stderr}`);
  return { overrideAt: Date.now() + 75_000 };
}

async function createOverride(cluster: TestCluster): Promise<void> {
  const until = new Date(Date.now() + 2 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const override = {
    apiVersion: 'ecspower.io/v1alpha1',
    kind: 'EcsPowerOverride',
    metadata: { name: 'wake-fleet', namespace: 'default' },
    spec: { selector: { matchLabels: { wake: 'tonight' } }, desiredState: 'Running', until, reason: 'demo: somebody needs fleet-1 and fleet-2 now' },
  };
  const applied = await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(override) });
  if (applied.code !== 0) throw new Error(applied.stderr);
}

function onPath(cmd: string): boolean {
  return (process.env['PATH'] ?? '').split(':').some((d) => {
    try {
      return readdirSync(d).includes(cmd);
    } catch {
      return false;
    }
  });
}

const exitWhenReady = process.argv.includes('--exit-when-ready');
const code = await main();
// Ctrl-C is the normal way to end the demo; with --exit-when-ready it means it never got there.
process.exit(code === 130 && !exitWhenReady ? 0 : code);
