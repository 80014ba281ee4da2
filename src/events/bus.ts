// One bus for boot events: every stage of every boot (dhcp, tftp, http, ...) emits one.
// Consumers (timeline in the store, metrics, logs, live UI) subscribe; emitters never wait on them.
export type BootStage = 'dhcp' | 'proxydhcp' | 'tftp' | 'http' | 'install' | 'system';

export interface BootEvent {
  /** Host identity as far as the emitter knows it: MAC (aa:bb:..), host id, or client IP. */
  host: string;
  stage: BootStage;
  /** A short verb: 'offer', 'ack', 'ignored', 'transfer-start', 'transfer-finish', ... */
  kind: string;
  /** Free-form, JSON-serialisable detail: what was served and why. */
  detail: Record<string, unknown>;
  time: Date;
}

export type BootEventListener = (event: BootEvent) => void;

export class EventBus {
  private readonly listeners = new Set<BootEventListener>();
  private readonly onListenerError: (err: unknown) => void;
  constructor(onListenerError: (err: unknown) => void = () => {}) {
    this.onListenerError = onListenerError;
  }

  emit(event: Omit<BootEvent, 'time'> & { time?: Date }): void {
    const full: BootEvent = { ...event, time: event.time ?? new Date() };
    for (const l of this.listeners) {
      try {
        l(full);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  subscribe(listener: BootEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
