package io.dstream.broker.admin;

import io.dstream.broker.http.HttpErrors;
import io.dstream.broker.store.MessageStore;
import io.dstream.broker.store.SubjectRecord;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamError;
import io.dstream.broker.stream.StreamRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.Callable;
import java.util.function.BiConsumer;

/**
 * What every admin route does the same way: parse numeric parameters (400 on bad ones), run store
 * reads on the readers' pool, and call a subject's actor in one call, only once the store confirmed
 * the subject exists (so no admin request ever creates a subject).
 * Answers are JSON; failures are the usual error object. Handlers run on the request's event loop.
 */
final class AdminRequests {

  private static final Logger LOG = LoggerFactory.getLogger(AdminRequests.class);

  private final MessageStore store;
  private final WorkerExecutor readers;
  private final StreamRegistry registry;

  AdminRequests(MessageStore store, WorkerExecutor readers, StreamRegistry registry) {
    this.store = store;
    this.readers = readers;
    this.registry = registry;
  }

  /** Runs a store read on the worker pool; a null result is a 404 for the subject in the path. */
  void blocking(RoutingContext ctx, Callable<String> read) {
    readers.executeBlocking(read, false).onComplete(ar -> {
      if (ar.failed()) {
        fail(ctx, ar.cause());
      } else if (ar.result() == null) {
        notFound(ctx);
      } else {
        json(ctx, ar.result());
      }
    });
  }

  /** An admin operation on a subject's actor: runs on the actor's context and answers through {@code reply}. */
  @FunctionalInterface
  interface ActorOperation {
    void run(SubjectRecord record, StreamActor actor, BiConsumer<String, Throwable> reply);
  }

  /**
   * Answers with what {@code operation} makes of the subject's record and actor, in one actor call
   * ({@link StreamRegistry#ask}); 404 if the store has no such subject.
   */
  void withActor(RoutingContext ctx, ActorOperation operation) {
    String subject = ctx.pathParam("subject");
    readers.executeBlocking(() -> store.find(subject), false).onComplete(found -> {
      if (found.failed()) {
        fail(ctx, found.cause());
      } else if (found.result() == null) {
        notFound(ctx);
      } else {
        SubjectRecord record = found.result();
        registry.<String>ask(subject, Vertx.currentContext(), (actor, reply) -> operation.run(record, actor, reply))
            .onSuccess(body -> json(ctx, body))
            .onFailure(failure -> fail(ctx, failure));
      }
    });
  }

  /**
   * Cluster mode, on a node that does not lead the subject: what {@code read} makes of the subject's
   * record in this node's own store, on the readers' pool, with no actor; 404 if the store has none.
   */
  void withLocalRecord(RoutingContext ctx, java.util.function.BiFunction<MessageStore, SubjectRecord, String> read) {
    String subject = ctx.pathParam("subject");
    readers.executeBlocking(() -> {
      SubjectRecord record = store.find(subject);
      return record == null ? null : read.apply(store, record);
    }, false).onComplete(done -> {
      if (done.failed()) {
        fail(ctx, done.cause());
      } else if (done.result() == null) {
        notFound(ctx);
      } else {
        json(ctx, done.result());
      }
    });
  }

  static void json(RoutingContext ctx, String body) {
    if (!ctx.response().ended() && !ctx.response().closed()) {
      ctx.response().putHeader("Content-Type", "application/json").end(body);
    }
  }

  static void notFound(RoutingContext ctx) {
    HttpErrors.send(ctx.response(), 404, "not_found", "no subject '" + ctx.pathParam("subject") + "'");
  }

  static void fail(RoutingContext ctx, Throwable failure) {
    StreamError error = StreamError.from(failure);
    if (error.kind() == StreamError.Kind.INTERNAL) {
      LOG.error("admin request {} {} failed", ctx.request().method(), ctx.request().path(), failure);
    }
    if (StreamError.WRONG_REVISION.equals(error.code())) {
      // The precondition of an If-Match failed: HTTP's own status for it.
      HttpErrors.send(ctx.response(), 412, error.code(), error.getMessage());
    } else {
      HttpErrors.send(ctx.response(), error);
    }
  }

  /** {@code limit} between 1 and {@code max}, {@code defaultValue} if absent; null after answering 400. */
  static Integer limit(RoutingContext ctx, int defaultValue, int max) {
    return within(ctx, "limit", defaultValue, 1, max);
  }

  /**
   * The query parameter {@code name} between {@code min} and {@code max}, {@code defaultValue} if
   * absent; null after answering 400.
   */
  static Integer within(RoutingContext ctx, String name, int defaultValue, int min, int max) {
    Long value = number(ctx, name, defaultValue);
    if (value == null) {
      return null;
    }
    if (value < min || value > max) {
      HttpErrors.send(ctx.response(), 400, "invalid_argument", name + " must be " + min + ".." + max + ", got " + value);
      return null;
    }
    return value.intValue();
  }

  /** @return the query parameter as a number, its default if absent, or null after answering 400 */
  static Long number(RoutingContext ctx, String name, long defaultValue) {
    String raw = ctx.request().getParam(name);
    if (raw == null || raw.isEmpty()) {
      return defaultValue;
    }
    try {
      return Long.parseLong(raw);
    } catch (NumberFormatException e) {
      HttpErrors.send(ctx.response(), 400, "invalid_argument", name + " must be an integer, got '" + raw + "'");
      return null;
    }
  }
}
