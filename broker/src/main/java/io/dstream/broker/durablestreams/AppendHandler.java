package io.dstream.broker.durablestreams;

import io.dstream.broker.stream.StreamError;
import io.dstream.broker.http.HttpErrors;
import io.dstream.broker.stream.SubjectTransaction;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

import java.util.regex.Pattern;

/**
 * {@code POST}: appends the body as one message, closes the stream ({@code Stream-Closed: true},
 * with or without a body), checks {@code Stream-Seq} (each must sort after the previous one) and
 * deduplicates idempotent producers ({@code Producer-Id/Epoch/Seq}, Kafka-style: a higher epoch
 * fences older ones and starts at sequence 0, a repeated sequence is a duplicate, a gap is refused).
 * The checks and the write are one step on the stream's actor, so they cannot interleave with
 * another append.
 */
final class AppendHandler {

  private static final Pattern DIGITS = Pattern.compile("\\d{1,15}");

  /** How an append step ended. */
  private enum Status { APPENDED, CLOSED_ONLY, DUPLICATE, STALE_EPOCH, INVALID_EPOCH_SEQ, SEQUENCE_GAP, STREAM_CLOSED }

  /** The step's answer; {@code number} is the duplicate's last sequence, the current epoch, or the expected sequence. */
  private record Outcome(Status status, long tail, boolean closed, long number) {
  }

  /**
   * A validated append request; producer fields are null without producer headers. A JSON body is
   * split and compacted on the request's event loop, before the actor call: {@code json} is its
   * stored form, or {@code jsonError} why it has none (answered only if the stream is in JSON mode,
   * after the checks that come first).
   */
  private record Append(byte[] body, String contentType, String streamSeq, boolean close, String producerId,
                        Long epoch, Long seq, byte[] json, StreamError jsonError) {
    boolean producer() {
      return producerId != null;
    }

    byte[] jsonStored() {
      if (jsonError != null) {
        throw jsonError;
      }
      return json;
    }
  }

  private final StreamAccess access;
  private final Subscriptions subscriptions;

  AppendHandler(StreamAccess access, Subscriptions subscriptions) {
    this.access = access;
    this.subscriptions = subscriptions;
  }

  void handle(RoutingContext ctx, String path, String subject) {
    Append append = parse(ctx);
    Context caller = Vertx.currentContext();
    HttpServerResponse response = ctx.response();
    access.call(subject, path, caller, (tx, meta) -> apply(tx, meta, append))
        .onSuccess(outcome -> {
          access.touch(path);
          answer(response, append, outcome);
          if (outcome.status() == Status.APPENDED) {
            subscriptions.streamWritten(path, outcome.tail());
          }
        })
        .onFailure(failure -> DurableStreamsApi.fail(response, failure));
  }

  private static void answer(HttpServerResponse response, Append append, Outcome outcome) {
    String tail = Offsets.format(outcome.tail());
    switch (outcome.status()) {
      case APPENDED, CLOSED_ONLY -> {
        response.putHeader(Protocol.NEXT_OFFSET, tail);
        if (outcome.closed()) {
          response.putHeader(Protocol.CLOSED, "true");
        }
        if (append.producer()) {
          response.putHeader(Protocol.PRODUCER_EPOCH, append.epoch().toString())
              .putHeader(Protocol.PRODUCER_SEQ, append.seq().toString());
        }
        response.setStatusCode(append.producer() && outcome.status() == Status.APPENDED ? 200 : 204).end();
      }
      case DUPLICATE -> {
        response.putHeader(Protocol.NEXT_OFFSET, tail)
            .putHeader(Protocol.PRODUCER_EPOCH, append.epoch().toString())
            .putHeader(Protocol.PRODUCER_SEQ, Long.toString(outcome.number()));
        if (outcome.closed()) {
          response.putHeader(Protocol.CLOSED, "true");
        }
        response.setStatusCode(204).end();
      }
      case STALE_EPOCH -> {
        response.putHeader(Protocol.PRODUCER_EPOCH, Long.toString(outcome.number()));
        HttpErrors.send(response, 403, "stale_epoch", "stale producer epoch");
      }
      case INVALID_EPOCH_SEQ -> HttpErrors.send(response, 400, "invalid_epoch_seq",
          "a new producer epoch must start at sequence 0");
      case SEQUENCE_GAP -> {
        response.putHeader(Protocol.PRODUCER_EXPECTED_SEQ, Long.toString(outcome.number()))
            .putHeader(Protocol.PRODUCER_RECEIVED_SEQ, append.seq().toString());
        HttpErrors.send(response, 409, "sequence_gap", "producer sequence gap");
      }
      case STREAM_CLOSED -> {
        response.putHeader(Protocol.CLOSED, "true").putHeader(Protocol.NEXT_OFFSET, tail);
        HttpErrors.send(response, 409, "stream_closed", "stream is closed");
      }
      default -> throw new IllegalStateException(outcome.status().name());
    }
  }

  /** The append step, on the actor. */
  private Outcome apply(SubjectTransaction tx, StreamMeta meta, Append append) {
    if (meta == null) {
      throw DurableStreamsApi.notFound();
    }
    if (meta.softDeleted) {
      throw DurableStreamsApi.gone();
    }
    long tail = meta.position(tx.lastSequence());
    if (meta.closed) {
      StreamMeta.ClosedBy by = meta.closedBy;
      if (append.producer() && by != null && by.producerId().equals(append.producerId())
          && by.epoch() == append.epoch() && by.seq() == append.seq()) {
        return new Outcome(Status.DUPLICATE, tail, true, append.seq());
      }
      if (append.body().length == 0 && !append.producer()) {
        return new Outcome(Status.CLOSED_ONLY, tail, true, 0);
      }
      return new Outcome(Status.STREAM_CLOSED, tail, true, 0);
    }
    boolean closeOnly = append.body().length == 0;
    if (!closeOnly && !StreamMeta.mediaType(append.contentType()).equals(StreamMeta.mediaType(meta.contentType))) {
      throw StreamError.conflict("content_type_mismatch", "Content-Type differs from the stream's " + meta.contentType);
    }
    long now = access.now();
    if (append.producer()) {
      meta.forgetIdleProducers(now);
      Outcome refused = checkProducer(meta, append, tail);
      if (refused != null) {
        return refused;
      }
    }
    if (!closeOnly && append.streamSeq() != null && meta.lastStreamSeq != null
        && append.streamSeq().compareTo(meta.lastStreamSeq) <= 0) {
      throw StreamError.conflict("sequence_conflict", "Stream-Seq " + append.streamSeq()
          + " does not sort after the last one, " + meta.lastStreamSeq);
    }
    byte[] payload = closeOnly ? null : meta.jsonMode() ? append.jsonStored() : append.body();
    if (append.producer()) {
      meta.producers.put(append.producerId(), new StreamMeta.Producer(append.epoch(), append.seq(), now));
    }
    if (!closeOnly && append.streamSeq() != null) {
      meta.lastStreamSeq = append.streamSeq();
    }
    if (append.close()) {
      meta.closed = true;
      if (append.producer()) {
        meta.closedBy = new StreamMeta.ClosedBy(append.producerId(), append.epoch(), append.seq());
      }
    }
    if (payload != null) {
      tx.append(payload);
    }
    if (append.producer() || append.close() || !closeOnly && append.streamSeq() != null) {
      tx.putAttributes(meta.encode());
    }
    return new Outcome(closeOnly ? Status.CLOSED_ONLY : Status.APPENDED, meta.position(tx.lastSequence()), meta.closed, 0);
  }

  /** Null when the producer's tuple is the next one; else the refusal (or duplicate) to answer. */
  private static Outcome checkProducer(StreamMeta meta, Append append, long tail) {
    StreamMeta.Producer state = meta.producers.get(append.producerId());
    long epoch = append.epoch();
    long seq = append.seq();
    if (state == null) {
      return seq == 0 ? null : new Outcome(Status.SEQUENCE_GAP, tail, false, 0);
    }
    if (epoch < state.epoch()) {
      return new Outcome(Status.STALE_EPOCH, tail, false, state.epoch());
    }
    if (epoch > state.epoch()) {
      return seq == 0 ? null : new Outcome(Status.INVALID_EPOCH_SEQ, tail, false, 0);
    }
    if (seq <= state.lastSeq()) {
      return new Outcome(Status.DUPLICATE, tail, meta.closed, state.lastSeq());
    }
    return seq == state.lastSeq() + 1 ? null : new Outcome(Status.SEQUENCE_GAP, tail, false, state.lastSeq() + 1);
  }

  private static Append parse(RoutingContext ctx) {
    HttpServerRequest http = ctx.request();
    String producerId = http.getHeader(Protocol.PRODUCER_ID);
    String epoch = http.getHeader(Protocol.PRODUCER_EPOCH);
    String seq = http.getHeader(Protocol.PRODUCER_SEQ);
    boolean any = producerId != null || epoch != null || seq != null;
    boolean all = producerId != null && epoch != null && seq != null;
    if (any && !all) {
      throw StreamError.invalid("invalid_producer", "Producer-Id, Producer-Epoch and Producer-Seq go together");
    }
    if (all) {
      if (producerId.isEmpty()) {
        throw StreamError.invalid("invalid_producer", "Producer-Id must not be empty");
      }
      if (!DIGITS.matcher(epoch).matches()) {
        throw StreamError.invalid("invalid_producer", "Producer-Epoch must be a non-negative integer");
      }
      if (!DIGITS.matcher(seq).matches()) {
        throw StreamError.invalid("invalid_producer", "Producer-Seq must be a non-negative integer");
      }
    }
    byte[] body = ctx.body() == null || ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes();
    boolean close = "true".equals(http.getHeader(Protocol.CLOSED));
    String contentType = http.getHeader("Content-Type");
    if (body.length == 0 && !close) {
      throw StreamError.invalid("empty_body", "an append needs a body (or Stream-Closed: true)");
    }
    if (body.length > 0 && (contentType == null || contentType.isBlank())) {
      throw StreamError.invalid("content_type_required", "Content-Type is required");
    }
    byte[] json = null;
    StreamError jsonError = null;
    if (body.length > 0 && StreamMeta.JSON.equals(StreamMeta.mediaType(contentType))) {
      try {
        json = JsonMode.stored(body, false);
      } catch (StreamError e) {
        jsonError = e;
      }
    }
    return new Append(body, contentType, http.getHeader(Protocol.SEQ), close, all ? producerId : null,
        all ? Long.valueOf(epoch) : null, all ? Long.valueOf(seq) : null, json, jsonError);
  }
}
