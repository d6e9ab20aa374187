package io.dstream.client;

import io.vertx.core.json.JsonObject;

/**
 * A message pushed to a {@link Subscription}.
 *
 * <p>The broker keeps a bounded number of unacknowledged pushes per subscriber and redelivers a
 * push that is not acknowledged in time, so every message must be acknowledged: with
 * {@link #ack()}, or automatically when the subscription was created with auto-ack.
 */
public interface StreamMessage {

  /** @return the message's sequence in its subject's stream, starting at 1 */
  long sequence();

  /**
   * @return the published value: a {@link io.vertx.core.json.JsonObject}, {@link io.vertx.core.json.JsonArray},
   *     {@link String}, {@link Number}, {@link Boolean} or {@code null}
   */
  Object data();

  /**
   * @return the stored record as the broker pushed it (data, sequence and the publisher's metadata),
   *     without the protocol's delivery fields; a copy the caller may modify
   */
  JsonObject json();

  /**
   * Acknowledges the message so the broker neither redelivers it nor counts it against the
   * subscriber's window. Calling it again, or after auto-ack, does nothing. May be called from any thread.
   */
  void ack();
}
