import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { FlagError, POD_NAMESPACE_FILE, parseFlags, type Config } from './config.ts';
import { loadKubeConfig } from './kube/client.ts';
import { createLogger } from './log.ts';
import { Operator } from './operator.ts';

function podNamespace(): string | undefined {
  try {
    return readFileSync(POD_NAMESPACE_FILE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = parseFlags(process.argv.slice(2), { env: process.env, podNamespace });
  } catch (err) {
    if (err instanceof FlagError) {
      process.stderr.write(`ecs-power: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  process.on('unhandledRejection', (reason) => {
    log.error('unhandled rejection', { error: reason instanceof Error ? reason.message : String(reason) });
  });

  let kubeConfig: KubeConfig;
  try {
    kubeConfig = loadKubeConfig(config.kubeconfig);
  } catch (err) {
    process.stderr.write(`ecs-power: cannot load kubeconfig: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }

  const operator = new Operator({
    config,
    kubeConfig,
    log,
    onLostLeadership: () => {
      log.error('leadership lost; exiting at once');
      process.exit(1);
    },
  });

  let signalled = false;
  const shutdown = (signal: string): void => {
    if (signalled) return;
    signalled = true;
    log.info('shutting down', { signal });
    operator.stop().then(
      (drained) => {
        log.info('stopped', { drained });
        process.exit(0);
      },
      (err: unknown) => {
        log.error('shutdown failed', { error: err instanceof Error ? err.message : String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  await operator.start();
  log.info('ecs-power started', {
    namespace: config.namespace ?? '(all)',
    metricsPort: operator.metricsPort,
    healthPort: operator.healthPort,
    leaderElect: config.leaderElect,
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`ecs-power: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
