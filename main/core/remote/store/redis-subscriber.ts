import type { Logger } from '../../util/logger.ts';
import type { RedisClient } from './redis-connection.ts';
import type { MessageListener, Unsubscribe } from './shared-store.ts';

/** One channel this store listens on: its listeners, and the SUBSCRIBE that serves them. */
interface Channel {
  readonly listeners: Set<{ readonly listener: MessageListener }>;
  readonly subscribed: Promise<void>;
  /** Sends the UNSUBSCRIBE that ends `subscribed`. */
  readonly leave: () => Promise<void>;
}

/** What the subscriber needs from its store. */
export interface RedisSubscriberDeps {
  /** Resolves to the store's one subscriber connection, made on first use, once it is ready. */
  connection(): Promise<RedisClient>;
  /** Runs a call, bounded by the store's timeout, failing with the store's errors. */
  bounded<T>(call: () => Promise<T>): Promise<T>;
  logger: Logger;
}

/**
 * The Redis store's side of pub/sub: every subscription of the store on one connection of its
 * own, one SUBSCRIBE per channel whatever the number of listeners. node-redis subscribes again
 * by itself after a reconnect, so subscriptions outlive a Redis outage. Channel names are full.
 */
export class RedisSubscriber {
  readonly #deps: RedisSubscriberDeps;
  readonly #channels = new Map<string, Channel>();

  constructor(deps: RedisSubscriberDeps) {
    this.#deps = deps;
  }

  /** Subscribes `listener` to `channel`; resolves once Redis confirmed the subscription. */
  async subscribe(channel: string, listener: MessageListener): Promise<Unsubscribe> {
    const client = await this.#deps.connection();
    const held = this.#channels.get(channel) ?? this.#join(client, channel);
    const subscription = { listener };
    held.listeners.add(subscription);
    try {
      await held.subscribed;
    } catch (err) {
      held.listeners.delete(subscription);
      throw err;
    }
    return async () => {
      // Removed here, at once: no message on its way reaches the listener after this resolves.
      if (!held.listeners.delete(subscription) || held.listeners.size > 0) return;
      if (this.#channels.get(channel) !== held) return;
      this.#channels.delete(channel);
      try {
        await this.#deps.bounded(held.leave);
      } catch {
        // Redis is away. The listener is gone from here already, and all a channel left
        // subscribed in Redis costs is messages that reach no listener.
      }
    };
  }

  /** Ends every subscription: no listener is called again. */
  clear(): void {
    for (const held of this.#channels.values()) held.listeners.clear();
    this.#channels.clear();
  }

  #join(client: RedisClient, channel: string): Channel {
    const listeners: Channel['listeners'] = new Set();
    // A dispatcher of its own per SUBSCRIBE, so that a channel left and joined again at once is
    // two subscriptions to node-redis, never one listener removed from under the other.
    const dispatch = (message: string) => this.#deliver(channel, listeners, message);
    const subscribed = this.#deps.bounded(() => client.subscribe(channel, dispatch));
    const held: Channel = {
      listeners,
      subscribed,
      leave: () => client.unsubscribe(channel, dispatch),
    };
    this.#channels.set(channel, held);
    subscribed.catch(() => {
      if (this.#channels.get(channel) === held) this.#channels.delete(channel);
    });
    return held;
  }

  #deliver(channel: string, listeners: Channel['listeners'], message: string): void {
    for (const subscription of [...listeners]) {
      // A listener unsubscribed by an earlier one in this loop hears nothing more.
      if (!listeners.has(subscription)) continue;
      try {
        subscription.listener(message);
      } catch (err) {
        // Only the error's name: a parse error's message can quote the message it failed on.
        // Thrown into node-redis's reader, it would also break the connection's parsing.
        const name = err instanceof Error ? err.name : typeof err;
        this.#deps.logger.warn(
          `A listener on store channel ${channel} threw ${name}; the other listeners still got the message.`,
        );
      }
    }
  }
}
