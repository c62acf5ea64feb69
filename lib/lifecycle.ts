import { getLogger, LIBRARY_SOURCE } from './log.js';
import { settledBy } from './producer/deadline.js';

/**
 * What has to end before the instance goes (FC `preStop`, Lambda's SIGTERM): module-scoped clients
 * register their shutdown here when they are created, so that the platform hooks stop them without
 * knowing — or loading — them. The shared producer is shut down by the hooks directly.
 */
export type InstanceStopHook = (deadline: number) => Promise<void>;

const hooks = new Set<InstanceStopHook>();

/** Registers `hook` to run when the instance stops; returns a function that unregisters it. */
export function onInstanceStop(hook: InstanceStopHook): () => void {
  hooks.add(hook);
  return () => {
    hooks.delete(hook);
  };
}

/**
 * Runs every registered hook at once and resolves by `deadline` whatever they do: a hook that fails is
 * logged, one still running at the deadline is left to finish in the background.
 */
export async function stopInstance(deadline: number): Promise<void> {
  const running = [...hooks].map((hook) =>
    hook(deadline).catch((error: unknown) => {
      getLogger().error({
        message: 'a shutdown hook failed while the instance stopped',
        source: LIBRARY_SOURCE,
        error: error as Error,
      });
    }),
  );
  await settledBy(Promise.all(running), deadline);
}
