import type { Logger } from '../../util/logger.ts';
import type { MemoryBacking, MemorySubscription } from './memory-backing.ts';
import type { MessageListener, Unsubscribe } from './shared-store.ts';

/**
 * One memory store's side of pub/sub over a backing: it publishes to every store on the backing
 * and keeps its own subscriptions, so closing the store ends them. Channel names are full names.
 */
export class MemoryPubSub {
  readonly #backing: MemoryBacking;
  readonly #logger: Logger;
  readonly #mine = new Map<MemorySubscription, string>();

  constructor(backing: MemoryBacking, logger: Logger) {
    this.#backing = backing;
    this.#logger = logger;
  }

  /** Delivers `message` later to whoever is subscribed now and still is then. */
  publish(channel: string, message: string): void {
    const subscriptions = this.#backing.subscriptions(channel);
    // Later, as from Redis: no listener runs inside the publisher's call.
    setImmediate(() => {
      for (const subscription of subscriptions)
        if (this.#backing.isSubscribed(channel, subscription))
          this.#deliver(channel, subscription, message);
    });
  }

  /** Subscribes `listener`; the function returned ends it (and is harmless once ended). */
  subscribe(channel: string, listener: MessageListener): Unsubscribe {
    const subscription: MemorySubscription = { listener };
    this.#backing.subscribe(channel, subscription);
    this.#mine.set(subscription, channel);
    return async () => {
      this.#backing.unsubscribe(channel, subscription);
      this.#mine.delete(subscription);
    };
  }

  /** Ends every subscription made here. */
  unsubscribeAll(): void {
    for (const [subscription, channel] of this.#mine)
      this.#backing.unsubscribe(channel, subscription);
    this.#mine.clear();
  }

  #deliver(channel: string, subscription: MemorySubscription, message: string): void {
    try {
      subscription.listener(message);
    } catch (err) {
      // Only the error's name: a parse error's message can quote the message it failed on.
      const name = err instanceof Error ? err.name : typeof err;
      this.#logger.warn(
        `A listener on store channel ${channel} threw ${name}; the other listeners still got the message.`,
      );
    }
  }
}
