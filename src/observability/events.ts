// Kubernetes Events for condition transitions and notable actions. Best effort: a failed Event never
// fails a reconcile. Messages come from the same secret-free sources as condition messages.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Logger } from '../observability/logger.ts';
import { isKubeApiError } from '../controller/kube-http.ts';
import type { KubePort } from '../kube/kube-port.ts';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  record(target: EventTarget, type: EventType, reason: string, message: string): void;
}

export const REPORTING_COMPONENT = 'coffre';

export function createEventRecorder(
  port: KubePort,
  clock: Clock,
  logger: Logger,
  instance: string,
): EventRecorder {
  return {
    record(target, type, reason, message) {
      const now = new Date(clock.now()).toISOString();
      port
        .createEvent(target.namespace, {
          metadata: { name: `${target.name}.${randomBytes(8).toString('hex')}`, namespace: target.namespace },
          involvedObject: {
            apiVersion: target.apiVersion,
            kind: target.kind,
            namespace: target.namespace,
            name: target.name,
            uid: target.uid,
          },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: REPORTING_COMPONENT },
          reportingComponent: REPORTING_COMPONENT,
          reportingInstance: instance,
          firstTimestamp: now as unknown as Date,
          lastTimestamp: now as unknown as Date,
          count: 1,
        })
        .catch((error: unknown) => {
          // A namespace being deleted refuses new objects: expected while its connections go, not news.
          const terminating =
            isKubeApiError(error, 403) && error.details.causeTypes?.includes('NamespaceTerminating') === true;
          logger[terminating ? 'debug' : 'warn'](
            {
              namespace: target.namespace,
              name: target.name,
              reason,
              err: error instanceof Error ? error.message : String(error),
            },
            terminating ? 'event not recorded: the namespace is being deleted' : 'could not record event',
          );
        });
    },
  };
}
