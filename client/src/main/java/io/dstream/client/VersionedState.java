package io.dstream.client;

import io.vertx.core.json.JsonObject;

/**
 * A subject's state object with its revision: 0 while the state was never set, one more for every
 * change (docs/consumers-and-retention.md). A destroyed subject starts again at 0.
 *
 * @param state the state object
 * @param revision its revision
 */
public record VersionedState(JsonObject state, long revision) {
}
