package io.dstream.broker.nats;

import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * One page of a JetStream API listing, paged as nats-server pages it: the request's {@code offset}
 * (0 if absent or negative), at most {@code limit} items, and the total, so that a client asks again
 * from {@code offset + limit} until it has {@code total}. A listing's answer is bounded by its page,
 * not by how many streams or consumers exist.
 */
record ApiPage<T>(List<T> items, int total, int offset, int limit) {

  /** Names: as nats-server's {@code STREAM.NAMES} and {@code CONSUMER.NAMES}. */
  static final int NAMES = 1024;
  /** Infos: as nats-server's {@code STREAM.LIST} and {@code CONSUMER.LIST}. */
  static final int INFOS = 256;

  static <T> ApiPage<T> of(List<T> all, JsonObject request, int limit) {
    int offset = Math.max(0, request.getInteger("offset", 0));
    int from = Math.min(offset, all.size());
    return new ApiPage<>(all.subList(from, Math.min(all.size(), from + limit)), all.size(), offset, limit);
  }

  /** The answer's paging fields under its {@code type}; the caller adds the page's items. */
  JsonObject answer(String type) {
    return new JsonObject().put("type", type).put("total", total).put("offset", offset).put("limit", limit);
  }
}
