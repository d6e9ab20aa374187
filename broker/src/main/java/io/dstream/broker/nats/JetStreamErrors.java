package io.dstream.broker.nats;

import io.dstream.broker.stream.StoredObject;
import io.dstream.broker.stream.StreamError;

/**
 * JetStream API error bodies, {@code {"error":{"code":..,"err_code":..,"description":..}}}, as
 * jnats and nats.js parse them into their API exceptions, and the mapping of our
 * {@link StreamError}s onto them. Thread-safe (stateless).
 */
final class JetStreamErrors {

  static final int STREAM_NOT_FOUND = 10059;
  static final int INVALID_CONFIG = 10052;
  static final int SUBJECTS_OVERLAP = 10065;
  static final int WRONG_LAST_SEQUENCE = 10071;
  static final int WRONG_LAST_MSG_ID = 10070;
  static final int NO_MESSAGE = 10037;
  static final int BAD_REQUEST = 10003;
  /** nats-server's JSStreamStoreFailedF, which it answers for a full stream with discard new ("maximum messages/bytes exceeded"). */
  static final int STORE_FAILED = 10077;
  /** JSStreamMessageExceedsMaximumErr: a message over the stream's max_msg_size. */
  static final int MESSAGE_TOO_LARGE = 10054;
  static final int UNAVAILABLE = 10008;
  static final int INTERNAL = 10000;
  static final int CONSUMER_NOT_FOUND = 10014;
  static final int WORK_QUEUE_EXPLICIT_ACK = 10098;
  static final int WORK_QUEUE_MULTIPLE_UNFILTERED = 10099;
  static final int WORK_QUEUE_NOT_UNIQUE = 10100;
  static final int WORK_QUEUE_DELIVER_ALL = 10101;

  private JetStreamErrors() {
  }

  static String json(int code, int errCode, String description) {
    return "{\"error\":{\"code\":" + code + ",\"err_code\":" + errCode + ",\"description\":" + quote(description) + "}}";
  }

  /** A failed publish or API call as a JetStream error: refusals keep their message, a bug says only "internal error". */
  static String of(Throwable failure) {
    StreamError error = StreamError.from(failure);
    return switch (error.kind()) {
      case CONFLICT -> json(400, switch (error.code()) {
        // A state revision is what a KV key's revision is to JetStream: its update refuses with 10071.
        case "wrong_last_sequence", StreamError.WRONG_REVISION -> WRONG_LAST_SEQUENCE;
        case "wrong_last_msg_id" -> WRONG_LAST_MSG_ID;
        default -> BAD_REQUEST;
      }, error.getMessage());
      case INVALID -> json(400, switch (error.code()) {
        case "invalid_config" -> INVALID_CONFIG;
        case "subjects_overlap" -> SUBJECTS_OVERLAP;
        case "wq_requires_explicit_ack" -> WORK_QUEUE_EXPLICIT_ACK;
        case "wq_multiple_unfiltered" -> WORK_QUEUE_MULTIPLE_UNFILTERED;
        case "wq_not_unique" -> WORK_QUEUE_NOT_UNIQUE;
        case "wq_not_deliver_all" -> WORK_QUEUE_DELIVER_ALL;
        default -> BAD_REQUEST;
      }, error.getMessage());
      case LIMIT_REACHED -> json(503, STORE_FAILED, error.getMessage());
      case TOO_LARGE -> json(400, MESSAGE_TOO_LARGE, error.getMessage());
      case NOT_FOUND, GONE -> json(404, switch (error.code()) {
        case "consumer_not_found" -> CONSUMER_NOT_FOUND;
        case "no_message" -> NO_MESSAGE;
        default -> STREAM_NOT_FOUND;
      }, error.getMessage());
      case OVERLOADED, UNAVAILABLE, STORAGE -> json(503, UNAVAILABLE, error.getMessage());
      default -> json(500, INTERNAL, "internal error");
    };
  }

  static String quote(String text) {
    return StoredObject.quote(text);
  }
}
