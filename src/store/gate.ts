// Tracks in-flight store calls so close() can wait for them, and refuses new calls after close().
import { StoreError } from './errors.ts';

export class Gate {
  #inflight = 0;
  #closed = false;
  #waiters: Array<() => void> = [];

  get closed(): boolean {
    return this.#closed;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) {
      throw new StoreError('BH_STORE_CLOSED', 'the store is closed', 'This is a bug in the caller: it used the store after shutting it down');
    }
    this.#inflight++;
    try {
      return await fn();
    } finally {
      this.#inflight--;
      if (this.#inflight === 0) {
        const w = this.#waiters;
        this.#waiters = [];
        for (const r of w) r();
      }
    }
  }

  /** Refuses new calls and resolves once the running ones have finished. */
  close(): Promise<void> {
    this.#closed = true;
    if (this.#inflight === 0) return Promise.resolve();
    return new Promise((r) => this.#waiters.push(r));
  }
}
