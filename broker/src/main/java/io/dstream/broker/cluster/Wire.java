package io.dstream.broker.cluster;

import io.dstream.broker.stream.Published;
import io.dstream.broker.stream.StreamError;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The encoding of node-to-node messages on the clustered event bus: length-prefixed strings, byte
 * arrays and stored messages, and a leader's refusal carried as an event-bus failure, so the caller raises the
 * same {@link StreamError} the leader did.
 */
public final class Wire {

  private Wire() {
  }

  /** A nullable string: {@code int length (-1 for null) | UTF-8}. */
  public static void string(Buffer body, String value) {
    bytes(body, value == null ? null : value.getBytes(StandardCharsets.UTF_8));
  }

  public static String string(Buffer body, int[] at) {
    byte[] utf8 = bytes(body, at);
    return utf8 == null ? null : new String(utf8, StandardCharsets.UTF_8);
  }

  /** {@code int length (-1 for null) | bytes}. */
  public static void bytes(Buffer body, byte[] value) {
    if (value == null) {
      body.appendInt(-1);
    } else {
      body.appendInt(value.length).appendBytes(value);
    }
  }

  public static byte[] bytes(Buffer body, int[] at) {
    int length = body.getInt(at[0]);
    at[0] += 4;
    if (length < 0) {
      return null;
    }
    byte[] data = body.getBytes(at[0], at[0] + length);
    at[0] += length;
    return data;
  }

  /** Stored messages: {@code int count | count × (long sequence | long timestamp | bytes stored)}. */
  public static void messages(Buffer body, List<Published> messages) {
    body.appendInt(messages.size());
    for (Published message : messages) {
      body.appendLong(message.sequence()).appendLong(message.timestampMs());
      bytes(body, message.stored());
    }
  }

  public static List<Published> messages(Buffer body, int[] at) {
    int count = body.getInt(at[0]);
    at[0] += 4;
    List<Published> messages = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      long sequence = body.getLong(at[0]);
      long timestamp = body.getLong(at[0] + 8);
      at[0] += 16;
      messages.add(new Published(sequence, timestamp, bytes(body, at)));
    }
    return messages;
  }

  /** A refusal as the event-bus failure message that {@link #failure} turns back into it. */
  public static String refusal(Throwable failure) {
    StreamError error = StreamError.from(failure);
    return error.kind().name() + "\n" + error.code() + "\n" + error.getMessage();
  }

  /**
   * The leader's refusal as it was raised there, or why a request got no answer: {@code not_leader}
   * when no node took it (it provably reached no actor), {@code forward_timeout} when the answer did
   * not come in time (it may or may not have run).
   */
  public static Throwable failure(Throwable cause) {
    if (!(cause instanceof ReplyException reply)) {
      return cause;
    }
    if (reply.failureType() == ReplyFailure.NO_HANDLERS) {
      return StreamError.of(StreamError.Kind.UNAVAILABLE, "not_leader", "cluster: the leading node is gone");
    }
    if (reply.failureType() == ReplyFailure.TIMEOUT) {
      return StreamError.of(StreamError.Kind.UNAVAILABLE, "forward_timeout",
          "cluster: the leading node did not answer in time; the request may or may not have been carried out");
    }
    String[] parts = String.valueOf(reply.getMessage()).split("\n", 3);
    if (parts.length < 3) {
      return StreamError.of(StreamError.Kind.INTERNAL, "internal", String.valueOf(reply.getMessage()));
    }
    return StreamError.of(StreamError.Kind.valueOf(parts[0]), parts[1], parts[2]);
  }
}
