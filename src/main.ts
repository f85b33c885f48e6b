import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { FlagError, parseFlags, type Config } from './config.ts';
import { createLogger } from './log.ts';
import { Operator } from './operator.ts';

function loadKubeConfig(config: Config): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromCluster();
  return kc;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = parseFlags(process.argv.slice(2));
  } catch (err) {
    if (err instanceof FlagError) {
      process.stderr.write(`ecs-power: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (config.leaderElect && !config.leaderElectionNamespace) {
    try {
      config.leaderElectionNamespace = readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim();
    } catch {
      config.leaderElectionNamespace = 'ecs-power-system';
    }
  }
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  process.on('unhandledRejection', (reason) => {
    log.error('unhandled rejection', { error: reason instanceof Error ? reason.message : String(reason) });
  });

  let kubeConfig: KubeConfig;
  try {
    kubeConfig = loadKubeConfig(config);
  } catch (err) {
    process.stderr.write(`ecs-power: cannot load kubeconfig: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }

  const operator = new Operator({
    config,
    kubeConfig,
    log,
    onLostLeadership: () => {
      log.error('leader election lost; exiting');
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
