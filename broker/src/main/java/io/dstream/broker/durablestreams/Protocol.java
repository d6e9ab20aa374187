package io.dstream.broker.durablestreams;

/** Header, parameter and field names of the Durable Streams protocol. */
final class Protocol {

  static final String NEXT_OFFSET = "Stream-Next-Offset";
  static final String CURSOR = "Stream-Cursor";
  static final String UP_TO_DATE = "Stream-Up-To-Date";
  static final String CLOSED = "Stream-Closed";
  static final String SEQ = "Stream-Seq";
  static final String TTL = "Stream-TTL";
  static final String EXPIRES_AT = "Stream-Expires-At";
  static final String FORKED_FROM = "Stream-Forked-From";
  static final String FORK_OFFSET = "Stream-Fork-Offset";
  static final String FORK_SUB_OFFSET = "Stream-Fork-Sub-Offset";
  static final String SSE_DATA_ENCODING = "Stream-SSE-Data-Encoding";
  static final String PRODUCER_ID = "Producer-Id";
  static final String PRODUCER_EPOCH = "Producer-Epoch";
  static final String PRODUCER_SEQ = "Producer-Seq";
  static final String PRODUCER_EXPECTED_SEQ = "Producer-Expected-Seq";
  static final String PRODUCER_RECEIVED_SEQ = "Producer-Received-Seq";

  static final String OFFSET_PARAM = "offset";
  static final String LIVE_PARAM = "live";
  static final String CURSOR_PARAM = "cursor";
  static final String LIVE_LONG_POLL = "long-poll";
  static final String LIVE_SSE = "sse";

  static final String SSE_NEXT_OFFSET = "streamNextOffset";
  static final String SSE_CURSOR = "streamCursor";
  static final String SSE_CLOSED = "streamClosed";
  static final String SSE_UP_TO_DATE = "upToDate";

  static final String ALLOW_METHODS = "GET, POST, PUT, DELETE, HEAD, OPTIONS";
  static final String ALLOW_HEADERS = "Content-Type, Authorization, auth, If-None-Match, Last-Event-ID, "
      + "Stream-Seq, Stream-TTL, Stream-Expires-At, Stream-Closed, Producer-Id, Producer-Epoch, Producer-Seq, "
      + "Stream-Forked-From, Stream-Fork-Offset, Stream-Fork-Sub-Offset";
  static final String EXPOSE_HEADERS = "Stream-Next-Offset, Stream-Cursor, Stream-Up-To-Date, Stream-Closed, "
      + "Stream-TTL, Stream-Expires-At, Stream-SSE-Data-Encoding, Producer-Epoch, Producer-Seq, "
      + "Producer-Expected-Seq, Producer-Received-Seq, ETag, Content-Type, Content-Encoding, Location, Vary";

  private Protocol() {
  }
}
